namespace VizHtml.Hosting.Standalone;

/// <summary>
/// A stream that reads <paramref name="prefix"/> first and then <paramref name="inner"/>, and writes to
/// <paramref name="inner"/>: the bytes a client sent right behind its upgrade request belong to the WebSocket.
/// </summary>
internal sealed class PrefixedStream(byte[] prefix, Stream inner) : WrappingStream(inner)
{
    private int _offset;

    public override int Read(byte[] buffer, int offset, int count)
    {
        return HasPrefix ? TakePrefix(buffer.AsSpan(offset, count)) : Inner.Read(buffer, offset, count);
    }

#if NET
    public override int Read(Span<byte> buffer)
    {
        return HasPrefix ? TakePrefix(buffer) : Inner.Read(buffer);
    }
#endif

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        return HasPrefix ? Task.FromResult(TakePrefix(buffer.AsSpan(offset, count))) : Inner.ReadAsync(buffer, offset, count, cancellationToken);
    }

#if NET
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        return HasPrefix ? new ValueTask<int>(TakePrefix(buffer.Span)) : Inner.ReadAsync(buffer, cancellationToken);
    }
#endif

    // While prefix bytes are left, every read is served from them; a zero-byte read (the WebSocket's wait for data while
    // idle) then completes at once with 0, as it does on a socket that has data, instead of waiting on the socket for
    // bytes the client has already sent.
    private bool HasPrefix => _offset < prefix.Length;

    private int TakePrefix(Span<byte> buffer)
    {
        var left = prefix.Length - _offset;
        var count = Math.Min(left, buffer.Length);
        prefix.AsSpan(_offset, count).CopyTo(buffer);
        _offset += count;
        return count;
    }
}
