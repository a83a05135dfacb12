#if !NET
namespace VizHtml.Hosting.Standalone;

/// <summary>
/// The upgraded stream as .NET Standard runtimes' WebSocket reads it. Mono's (the corefx 2.x <c>ManagedWebSocket</c>)
/// takes a client frame without the mask bit (RFC 6455 5.1: the server MUST fail it) and a 64-bit length whose top bit
/// is set (5.2: it MUST be 0). This stream reads each frame header whole before it passes it on and, when it breaks one
/// of those rules, sets its reserved bits: the WebSocket then fails the connection with 1002 itself, as .NET's does.
/// Every other byte passes unchanged; payloads are not looked at.
/// </summary>
internal sealed class ClientFrameGuardStream(Stream inner) : WrappingStream(inner)
{
    private const int MaxHeaderBytes = 14;

    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    // Bytes from _start on that pass without a look: the rest of the current frame. Zero: a header starts at _start.
    private long _free;

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            // The WebSocket's wait for data: at once when bytes are buffered.
            return _start < _end ? 0 : await Inner.ReadAsync(buffer, offset, 0, cancellationToken).ConfigureAwait(false);
        }

        if (_free == 0 && !await InspectHeaderAsync(cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        if (_start == _end)
        {
            // Payload with nothing buffered: straight into the caller's buffer.
            var direct = await Inner.ReadAsync(buffer, offset, (int)Math.Min(count, _free), cancellationToken).ConfigureAwait(false);
            _free -= direct;
            return direct;
        }

        var n = (int)Math.Min(Math.Min(count, _end - _start), _free);
        Buffer.BlockCopy(_buffer, _start, buffer, offset, n);
        _start += n;
        _free -= n;
        return n;
    }

    /// <summary>Buffers the header at <see cref="_start"/> whole, marks it when it breaks a rule, and frees it and its payload; false at the end of the stream.</summary>
    private async Task<bool> InspectHeaderAsync(CancellationToken cancellationToken)
    {
        if (!await EnsureAsync(2, cancellationToken).ConfigureAwait(false))
        {
            // The stream ended inside a header: pass what there is; the WebSocket reports the truncation.
            _free = _end - _start;
            return _free > 0;
        }

        var b1 = _buffer[_start + 1];
        var masked = (b1 & 0x80) != 0;
        var length7 = b1 & 0x7F;
        var headerBytes = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0);
        if (!await EnsureAsync(headerBytes, cancellationToken).ConfigureAwait(false))
        {
            _free = _end - _start;
            return true;
        }

        long payloadBytes = length7;
        var broken = !masked;
        if (length7 == 126)
        {
            payloadBytes = (_buffer[_start + 2] << 8) | _buffer[_start + 3];
        }
        else if (length7 == 127)
        {
            broken |= (_buffer[_start + 2] & 0x80) != 0;
            payloadBytes = 0;
            for (var i = 2; i < 10; i++)
            {
                payloadBytes = (payloadBytes << 8) | _buffer[_start + i];
            }

            payloadBytes &= long.MaxValue;
        }

        if (broken)
        {
            // RSV1-3: what every WebSocket fails with 1002 when no extension was negotiated.
            _buffer[_start] |= 0x70;
        }

        _free = headerBytes + payloadBytes;
        if (_free < 0)
        {
            _free = long.MaxValue;
        }

        return true;
    }

    /// <summary>Has at least <paramref name="count"/> (at most <see cref="MaxHeaderBytes"/>) bytes buffered from <see cref="_start"/>; false when the stream ended first.</summary>
    private async Task<bool> EnsureAsync(int count, CancellationToken cancellationToken)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (_start > 0 && _buffer.Length - _start < MaxHeaderBytes)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_start == _end)
        {
            _start = _end = 0;
        }

        while (_end - _start < count)
        {
            var read = await Inner.ReadAsync(_buffer, _end, _buffer.Length - _end, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }
}
#endif
