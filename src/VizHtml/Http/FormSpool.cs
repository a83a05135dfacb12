namespace VizHtml.Http;

/// <summary>
/// Where a server keeps uploaded files that are too large for memory: a folder of its own under the system's temporary
/// folder (<c>vizhtml-forms-*</c>, owner-only on Unix), created at the first such file, with one file per form. Each file
/// is deleted when its form is done (<see cref="FormSpool.Dispose"/>); <see cref="DeleteAll"/>, when the server is disposed,
/// deletes whatever is left and the folder.
/// </summary>
internal sealed class FormSpoolFolder
{
    /// <summary>
    /// How many bytes of a form's files stay in memory; the rest of them goes to the form's temporary file. 64 KiB: a
    /// typical form's small attachments never touch the disk, and what any form holds in memory stays below the 85,000
    /// bytes at which the runtime puts an array on the large object heap.
    /// </summary>
    public const int MemoryThreshold = 64 * 1024;

    private readonly Lock _gate = new();
    private readonly HashSet<FormSpool> _open = [];
    private string? _path;

    /// <summary>The folder, once a form has needed it (for tests).</summary>
    public string? Path
    {
        get
        {
            lock (_gate)
            {
                return _path;
            }
        }
    }

    /// <summary>A spool for one form; it creates its file only when a file part outgrows the memory threshold.</summary>
    public FormSpool CreateSpool() => new(this);

    internal SpoolFile CreateFile(FormSpool spool)
    {
        lock (_gate)
        {
            _path ??= Directory.CreateTempSubdirectory("vizhtml-forms-").FullName;
            var file = SpoolFile.Create(System.IO.Path.Combine(_path, System.IO.Path.GetRandomFileName()));
            _open.Add(spool);
            return file;
        }
    }

    internal void Forget(FormSpool spool)
    {
        lock (_gate)
        {
            _open.Remove(spool);
        }
    }

    /// <summary>Deletes every file still open and the folder; a later form starts a new folder.</summary>
    public void DeleteAll()
    {
        FormSpool[] open;
        string? path;
        lock (_gate)
        {
            open = [.. _open];
            path = _path;
            _path = null;
        }

        foreach (var spool in open)
        {
            spool.Dispose();
        }

        if (path is null)
        {
            return;
        }

        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A form a waiter still holds may keep its file open (Windows); it is deleted when that form is collected.
        }
    }
}

/// <summary>
/// One form's temporary file: the parts of its files past <see cref="FormSpoolFolder.MemoryThreshold"/>, one after the
/// other. Read at any offset from any thread. Disposing it closes and deletes the file, unless a waiter keeps it
/// (<see cref="KeepForWaiter"/>); then it goes when the form is garbage-collected or the server is disposed.
/// </summary>
internal sealed class FormSpool : IDisposable
{
    private readonly FormSpoolFolder _folder;
    private SpoolFile? _file;
    private long _length;
    private volatile bool _kept;
    private volatile bool _disposed;

    internal FormSpool(FormSpoolFolder folder) => _folder = folder;

    /// <summary>Whether the file is gone, so what was in it can no longer be read.</summary>
    public bool IsDeleted => _disposed;

    /// <summary>
    /// Appends the first <paramref name="filled"/> bytes of <paramref name="buffer"/>, then the rest of <paramref name="rest"/>
    /// read through the same buffer, and returns where that starts in the file and its length. Throws
    /// <see cref="InvalidDataException"/> once the part passes <paramref name="maxBytes"/>.
    /// </summary>
    public async Task<(long Offset, long Length)> AppendAsync(Memory<byte> buffer, int filled, Stream rest, long maxBytes, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _file ??= _folder.CreateFile(this);
        var start = _length;
        for (var read = filled; read > 0; read = await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false))
        {
            if (_length - start + read > maxBytes)
            {
                throw new InvalidDataException("A form part is larger than the limit.");
            }

            await _file.WriteAsync(buffer[..read], _length, cancellationToken).ConfigureAwait(false);
            _length += read;
        }

        return (start, _length - start);
    }

    /// <summary>Reads bytes at <paramref name="offset"/>; several readers may read at once.</summary>
    public int Read(long offset, Span<byte> buffer) => OpenFile().Read(buffer, offset);

    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        OpenFile().ReadAsync(buffer, offset, cancellationToken);

    /// <summary>
    /// Keeps the file past <see cref="Dispose"/>: a form handed to <c>WaitFormSubmitAsync</c> is read after the handlers have
    /// finished. The file then goes when the form is garbage-collected (the handle's finalizer closes it, and closing
    /// deletes it) or when the server is disposed.
    /// </summary>
    public void KeepForWaiter()
    {
        if (_file is not null && !_disposed)
        {
            _kept = true;
            _folder.Forget(this);
        }
    }

    public void Dispose()
    {
        if (_kept || _disposed)
        {
            return;
        }

        _disposed = true;
        _folder.Forget(this);

        _file?.Dispose();
    }

    private SpoolFile OpenFile() =>
        !_disposed && _file is { } file ? file : throw new ObjectDisposedException(nameof(FormSpool), "The uploaded file was kept in a temporary file, deleted when the form-submit handlers finished; read it in a handler.");
}

/// <summary>A read-only, seekable stream over one uploaded file in its form's <see cref="FormSpool"/>.</summary>
internal sealed class FormSpoolStream(FormSpool spool, long offset, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadCore(buffer.AsSpan(offset, count));

#if NET
    public override int Read(Span<byte> buffer) => ReadCore(buffer);
#endif

    private int ReadCore(Span<byte> buffer)
    {
        var wanted = Remaining(buffer.Length);
        if (wanted == 0)
        {
            return 0;
        }

        var read = spool.Read(offset + _position, buffer[..wanted]);
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadCoreAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

#if NET
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ReadCoreAsync(buffer, cancellationToken);
#endif

    private async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var wanted = Remaining(buffer.Length);
        if (wanted == 0)
        {
            return 0;
        }

        var read = await spool.ReadAsync(offset + _position, buffer[..wanted], cancellationToken).ConfigureAwait(false);
        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        SeekOrigin.End => length + offset,
        _ => throw new ArgumentOutOfRangeException(nameof(origin)),
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Remaining(int bufferLength) => (int)Math.Clamp(length - _position, 0, bufferLength);
}
