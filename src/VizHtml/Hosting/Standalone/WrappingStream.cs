namespace VizHtml.Hosting.Standalone;

/// <summary>
/// A stream over another that passes writes, flushes and disposal straight to it and decides only how reads work: the
/// upgraded socket's stream as the WebSocket sees it (<see cref="PrefixedStream"/>, and on .NET Standard the frame guard).
/// </summary>
internal abstract class WrappingStream(Stream inner) : Stream
{
    protected Stream Inner => inner;

    public sealed override bool CanRead => true;

    public sealed override bool CanSeek => false;

    public sealed override bool CanWrite => true;

    public sealed override long Length => throw new NotSupportedException();

    public sealed override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public sealed override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

#if NET
    public sealed override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
#endif

    public sealed override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

#if NET
    public sealed override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(buffer, cancellationToken);
#endif

    public sealed override void Flush() => inner.Flush();

    public sealed override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public sealed override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
