#if NET
using Microsoft.Win32.SafeHandles;
#endif

namespace VizHtml.Http;

/// <summary>
/// One form's temporary file, written and read at offsets by several readers at once, and deleted when it is closed
/// (also when a form kept for a waiter is collected: the handle's finalizer closes it).
/// </summary>
internal sealed class SpoolFile : IDisposable
{
#if NET
    private readonly SafeFileHandle _handle;

    private SpoolFile(SafeFileHandle handle) => _handle = handle;

    // DeleteOnClose: the file goes when its handle is closed. FileShare.Delete lets the folder be removed on Windows while
    // a kept form still reads its file.
    public static SpoolFile Create(string path) =>
        new(File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Delete, FileOptions.DeleteOnClose | FileOptions.Asynchronous));

    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, long offset, CancellationToken cancellationToken) =>
        RandomAccess.WriteAsync(_handle, bytes, offset, cancellationToken);

    public int Read(Span<byte> buffer, long offset) => RandomAccess.Read(_handle, buffer, offset);

    public ValueTask<int> ReadAsync(Memory<byte> buffer, long offset, CancellationToken cancellationToken) =>
        RandomAccess.ReadAsync(_handle, buffer, offset, cancellationToken);

    // A read under way keeps the handle (SafeHandle counts its users): the file is closed, and deleted, after it.
    public void Dispose() => _handle.Dispose();
#else
    // .NET Standard 2.0 has no positional file I/O: one stream, each read or write a seek and a transfer under a lock.
    private readonly FileStream _stream;
    private readonly string _path;
    private readonly Lock _gate = new();

    private SpoolFile(FileStream stream, string path)
    {
        _stream = stream;
        _path = path;
    }

    public static SpoolFile Create(string path) =>
        new(new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Delete, 4096, FileOptions.DeleteOnClose), path);

    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, long offset, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _stream.Position = offset;
            _stream.Write(bytes.Span);
        }

        return default;
    }

    public int Read(Span<byte> buffer, long offset)
    {
        lock (_gate)
        {
            _stream.Position = offset;
            return _stream.Read(buffer);
        }
    }

    public ValueTask<int> ReadAsync(Memory<byte> buffer, long offset, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<int>(Read(buffer.Span, offset));
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stream.Dispose();
        }

        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
            // Already gone (DeleteOnClose), or the folder was removed with it.
        }
    }
#endif
}
