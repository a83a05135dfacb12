using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace VizHtml.IntegrationTests.Conformance;

/// <summary>How the server ended the TCP connection after its close frame.</summary>
/// <summary>Switches for server defects that are reported and asserted by a dedicated test, so other cases stay deterministic.</summary>
internal static class KnownFindings
{
    /// <summary>
    /// Finding 5 (fixed): after failing a connection the server used to reset TCP at once, and in some connections the
    /// RST overtook its close frame. It now waits for the peer's close (bounded by the close timeout) before ending the
    /// connection, so every case must see its close code.
    /// </summary>
    public const bool ResetMayLoseServerCloseFrame = false;

    /// <summary>How many close frames were lost that way in this run (for the test output).</summary>
    public static int LostServerCloseFrames;
}

internal enum TcpEnd
{
    /// <summary>An orderly FIN: the read returned 0.</summary>
    Eof,

    /// <summary>A reset (the server closed with unread client bytes).</summary>
    Reset,
}

/// <summary>
/// A WebSocket client over a bare TCP socket: it performs the opening handshake itself (RFC 6455 section 4) and
/// writes and reads every frame by hand, so a test can put any bytes on the wire. Every read has a timeout.
/// </summary>
internal sealed class WsWire : IDisposable
{
    /// <summary>The longest any single expected reaction of the server may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private const int MaxFrameBytes = 64 << 20;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private WsWire(Socket socket) => _socket = socket;

    /// <summary>Connects to the server on 127.0.0.1, from <paramref name="from"/> (another loopback address is another client address).</summary>
    public static async Task<WsWire> ConnectAsync(int port, IPAddress? from = null)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var wire = new WsWire(socket);
        try
        {
            if (from is not null)
            {
                socket.Bind(new IPEndPoint(from, 0));
            }

            await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            await wire.HandshakeAsync(port, timeout.Token);
            return wire;
        }
        catch
        {
            wire.Dispose();
            throw;
        }
    }

    private async Task HandshakeAsync(int port, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request =
            "GET /vizhtml/socket HTTP/1.1\r\n" +
            $"Host: 127.0.0.1:{port}\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\n" +
            "Sec-WebSocket-Version: 13\r\n\r\n";
        await SendAllAsync(Encoding.ASCII.GetBytes(request), cancellationToken);

        var head = new StringBuilder();
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (!await FillAsync(1, cancellationToken))
            {
                throw new IOException("The server closed the connection during the opening handshake: " + head);
            }

            head.Append((char)_buffer[_start++]);
        }

        var lines = head.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("HTTP/1.1 101", lines[0], StringComparison.Ordinal);
        var headers = lines.Skip(1)
            .Select(l => l.Split(':', 2))
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);

        // RFC 6455 section 4.2.2 step 5: the accept value is base64(SHA-1(key + GUID)).
#pragma warning disable CA5350 // SHA-1 is what the protocol prescribes for this value; it protects nothing.
        var expectedAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
#pragma warning restore CA5350
        Assert.Equal(expectedAccept, headers.GetValueOrDefault("Sec-WebSocket-Accept"));
        Assert.Equal("websocket", headers.GetValueOrDefault("Upgrade"), ignoreCase: true);

        // No extension was offered, so none may be accepted (section 9.1): the RSV bits stay meaningless.
        Assert.False(headers.ContainsKey("Sec-WebSocket-Extensions"), "the server accepted an extension the client never offered");
    }

    /// <summary>Writes raw bytes (one or many frames, or a partial one).</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await SendAllAsync(bytes, timeout.Token);
    }

    /// <summary>Writes bytes while the server may already be closing; a send refused by a closed peer is not an error.</summary>
    public async Task SendIgnoringPeerCloseAsync(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            await SendAsync(bytes);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
        {
        }
        catch (OperationCanceledException)
        {
            // The server stopped reading after it failed the connection, so the rest never leaves the socket buffer.
        }
    }

    public Task SendFrameAsync(byte opcode, ReadOnlySpan<byte> payload, bool fin = true, int rsv = 0, bool masked = true, LengthEncoding length = LengthEncoding.Minimal) =>
        SendAsync(FrameWriter.Frame(opcode, payload, fin, rsv, masked, length));

    public Task SendTextAsync(ReadOnlySpan<byte> utf8) => SendFrameAsync(Opcode.Text, utf8);

    private async Task SendAllAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
            bytes = bytes[sent..];
        }
    }

    /// <summary>
    /// The next frame from the server, or null when the server ended the TCP connection at a frame boundary.
    /// Checks what RFC 6455 section 5.1-5.2 requires of every server frame: unmasked, no RSV bits.
    /// </summary>
    public async Task<WsFrame?> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        try
        {
            if (!await FillAsync(2, cts.Token))
            {
                if (_end == _start)
                {
                    return null;
                }

                throw new IOException("The server closed the connection in the middle of a frame header.");
            }

            var b0 = _buffer[_start];
            var b1 = _buffer[_start + 1];
            _start += 2;
            var masked = (b1 & 0x80) != 0;
            ulong length = (ulong)(b1 & 0x7F);
            if (length == 126)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactAsync(2, cts.Token));
            }
            else if (length == 127)
            {
                length = BinaryPrimitives.ReadUInt64BigEndian(await ReadExactAsync(8, cts.Token));
            }

            if (length > MaxFrameBytes)
            {
                throw new InvalidDataException($"The server announced a frame of {length} bytes.");
            }

            var key = masked ? await ReadExactAsync(4, cts.Token) : null;
            var payload = await ReadExactAsync((int)length, cts.Token);
            if (key is not null)
            {
                for (var i = 0; i < payload.Length; i++)
                {
                    payload[i] ^= key[i & 3];
                }
            }

            var frame = new WsFrame((b0 & 0x80) != 0, (b0 >> 4) & 0x7, (byte)(b0 & 0x0F), masked, payload);
            Assert.False(frame.Masked, $"RFC 6455 5.1: a server MUST NOT mask its frames ({frame})");
            Assert.True(frame.Rsv == 0, $"RFC 6455 5.2: RSV bits set without a negotiated extension ({frame})");
            return frame;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"No frame from the server within {(timeout ?? Timeout).TotalSeconds} s.");
        }
    }

    /// <summary>
    /// The next complete data message (fragments joined); pongs are skipped and server pings answered.
    /// A close frame here is a test failure.
    /// </summary>
    public async Task<(byte Opcode, byte[] Payload)> ReceiveMessageAsync()
    {
        var parts = new List<byte[]>();
        byte? opcode = null;
        while (true)
        {
            var frame = await ReadFrameAsync() ?? throw new IOException("The server closed the TCP connection while a message was expected.");
            switch (frame.Opcode)
            {
                case Opcode.Ping:
                    await SendFrameAsync(Opcode.Pong, frame.Payload);
                    continue;
                case Opcode.Pong:
                    continue;
                case Opcode.Close:
                    Assert.Fail($"Expected a message, but the server closed: {frame}");
                    break;
                case Opcode.Continuation:
                    Assert.True(opcode is not null, $"RFC 6455 5.4: continuation frame without a start ({frame})");
                    break;
                default:
                    Assert.True(opcode is null, $"RFC 6455 5.4: new message inside a fragmented one ({frame})");
                    opcode = frame.Opcode;
                    break;
            }

            parts.Add(frame.Payload);
            if (frame.Fin)
            {
                return (opcode!.Value, FrameWriter.Concat(parts));
            }
        }
    }

    /// <summary>The next message, parsed as a VizHtml envelope; the server must send valid UTF-8 text.</summary>
    public async Task<(string Event, JsonNode? Data)> ReceiveEnvelopeAsync()
    {
        var (opcode, payload) = await ReceiveMessageAsync();
        Assert.Equal(Opcode.Text, opcode);
        var text = StrictUtf8.GetString(payload);
        var envelope = JsonNode.Parse(text)!.AsObject();
        return (envelope["event"]!.GetValue<string>(), envelope["data"]);
    }

    /// <summary>Receives the echo of <paramref name="expected"/> and checks it is exactly that string.</summary>
    public async Task ExpectEchoAsync(string expected)
    {
        var (name, data) = await ReceiveEnvelopeAsync();
        Assert.True(name == "echo", $"Expected the echo event, got '{name}': {data?.ToJsonString()}");
        var echoed = data!.GetValue<string>();
        Assert.True(echoed.Length == expected.Length, $"The echo has {echoed.Length} UTF-16 units, {expected.Length} were sent.");
        Assert.True(string.Equals(expected, echoed, StringComparison.Ordinal), "The echo differs from what was sent.");
    }

    /// <summary>
    /// Reads up to and including the server's close frame. Data frames before it are a failure unless allowed; pongs
    /// and pings are tolerated. Null when the TCP connection ended without a close frame.
    /// </summary>
    public async Task<WsFrame?> ReadUntilCloseAsync(bool allowDataFrames = false)
    {
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (frame is null || frame.Opcode == Opcode.Close)
            {
                return frame;
            }

            Assert.True(allowDataFrames || Opcode.IsControl(frame.Opcode), $"Expected a close frame, got {frame}");
        }
    }

    /// <summary>
    /// The server fails the connection: its next frame is a close with one of <paramref name="codes"/>, and then it
    /// ends the TCP connection within <see cref="Timeout"/> (RFC 6455 section 7.1.1 and 7.1.7).
    /// </summary>
    /// <returns>The close frame; null only when <see cref="KnownFindings.ResetMayLoseServerCloseFrame"/> tolerated its loss.</returns>
    public async Task<WsFrame?> ExpectCloseAsync(params int[] codes)
    {
        WsFrame? close;
        try
        {
            close = await ReadUntilCloseAsync();
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Expected close {string.Join(" or ", codes)}: {ex.Message}", ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset && KnownFindings.ResetMayLoseServerCloseFrame)
        {
            // Finding 5 (README.md): the server sometimes resets the connection before its close frame leaves it.
            // The loss itself is asserted by CloseHandshakeTests.ServerFailingTheConnectionAlwaysDeliversItsCloseFrame.
            Interlocked.Increment(ref KnownFindings.LostServerCloseFrames);
            return null;
        }

        Assert.True(close is not null, $"The server ended the TCP connection without a close frame (expected close {string.Join(" or ", codes)}).");
        Assert.True(close.CloseCode is { } code && codes.Contains(code), $"Expected close {string.Join(" or ", codes)}, got {close}");
        Assert.True(close.Fin, "RFC 6455 5.5: control frames MUST NOT be fragmented");
        Assert.True(close.Payload.Length <= 125, "RFC 6455 5.5: control frame payloads are at most 125 bytes");
        await ExpectTcpEndAsync();
        return close;
    }

    /// <summary>After its close frame the server sends nothing more and closes the TCP connection.</summary>
    public async Task<TcpEnd> ExpectTcpEndAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            var extra = _end - _start;
            while (true)
            {
                var read = await _socket.ReceiveAsync(_buffer.AsMemory(0, 4096), SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    Assert.True(extra == 0, $"RFC 6455 5.5.1: the server sent {extra} bytes after its close frame.");
                    return TcpEnd.Eof;
                }

                extra += read;
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return TcpEnd.Reset;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"The server did not close the TCP connection within {Timeout.TotalSeconds} s of its close frame.");
        }
    }

    /// <summary>Has at least <paramref name="count"/> bytes buffered; false when the stream ended first.</summary>
    private async Task<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        while (_end < count)
        {
            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }

    private async Task<byte[]> ReadExactAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var buffered = Math.Min(count, _end - _start);
        Buffer.BlockCopy(_buffer, _start, result, 0, buffered);
        _start += buffered;
        var filled = buffered;
        while (filled < count)
        {
            var read = await _socket.ReceiveAsync(result.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new IOException($"The server closed the connection {count - filled} bytes before the end of a frame.");
            }

            filled += read;
        }

        return result;
    }

    public void Dispose() => _socket.Dispose();
}
