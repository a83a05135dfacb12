using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>
/// A bare TCP client that performs the WebSocket upgrade by hand, for faults ClientWebSocket cannot produce:
/// an abrupt TCP reset, raw frames.
/// </summary>
internal sealed class RawTcp : IDisposable
{
    private RawTcp(Socket socket) => Socket = socket;

    public Socket Socket { get; }

    /// <param name="port">The server's port on 127.0.0.1.</param>
    /// <param name="receiveBufferBytes">A fixed receive buffer, or the system's.</param>
    /// <param name="from">The local address to connect from (any 127.x.y.z works on Linux), to look like another machine.</param>
    /// <param name="query">A query string for the socket URL, e.g. <c>?v=2</c>.</param>
    public static async Task<RawTcp> UpgradeAsync(int port, int? receiveBufferBytes = null, IPAddress? from = null, string query = "")
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBufferBytes is { } size)
        {
            // A fixed small window: a client that stops reading fills it, and the server's buffers, sooner.
            socket.ReceiveBufferSize = size;
        }

        if (from is not null)
        {
            socket.Bind(new IPEndPoint(from, 0));
        }

        await socket.ConnectAsync(IPAddress.Loopback, port);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = $"GET /vizhtml/socket{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));

        var response = new StringBuilder();
        var buffer = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!response.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            if (read == 0)
            {
                throw new IOException("Server closed during the upgrade: " + response);
            }

            response.Append((char)buffer[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", response.ToString(), StringComparison.Ordinal);
        return new RawTcp(socket);
    }

    /// <summary>Sends one masked client frame.</summary>
    public async Task SendFrameAsync(byte opcode, byte[] payload, bool fin = true)
    {
        var header = new List<byte> { (byte)((fin ? 0x80 : 0) | opcode) };
        if (payload.Length < 126)
        {
            header.Add((byte)(0x80 | payload.Length));
        }
        else
        {
            header.Add(0x80 | 126);
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }

        var mask = RandomNumberGenerator.GetBytes(4);
        header.AddRange(mask);
        var masked = payload.Select((b, i) => (byte)(b ^ mask[i % 4])).ToArray();
        await Socket.SendAsync(header.Concat(masked).ToArray());
    }

    /// <summary>Reads the next text message the server sends (unfragmented), skipping control frames.</summary>
    public async Task<string> ReceiveTextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var header = await ReadExactlyAsync(2, timeout.Token);
            long length = header[1] & 0x7F;
            if (length == 126)
            {
                var extended = await ReadExactlyAsync(2, timeout.Token);
                length = (extended[0] << 8) | extended[1];
            }
            else if (length == 127)
            {
                length = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(await ReadExactlyAsync(8, timeout.Token));
            }

            var payload = await ReadExactlyAsync((int)length, timeout.Token);
            switch (header[0] & 0x0F)
            {
                case 0x1:
                    return Encoding.UTF8.GetString(payload);
                case 0x8:
                    throw new IOException($"The server closed the connection ({(payload.Length >= 2 ? (payload[0] << 8) | payload[1] : 1005)}).");
            }
        }
    }

    /// <summary>Reads server frames until a close frame and returns its status code.</summary>
    public async Task<int> ReceiveCloseCodeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var header = await ReadExactlyAsync(2, timeout.Token);
            var length = header[1] & 0x7F;
            if (length == 126)
            {
                var extended = await ReadExactlyAsync(2, timeout.Token);
                length = (extended[0] << 8) | extended[1];
            }

            var payload = await ReadExactlyAsync(length, timeout.Token);
            if ((header[0] & 0x0F) == 0x8)
            {
                return (payload[0] << 8) | payload[1];
            }
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await Socket.ReceiveAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                throw new IOException("The server closed the TCP connection before a close frame.");
            }

            read += n;
        }

        return buffer;
    }

    /// <summary>Closes with SO_LINGER 0, so the server sees a TCP RST and no close handshake.</summary>
    public void Reset()
    {
        Socket.LingerState = new LingerOption(true, 0);
        Socket.Close();
    }

    public void Dispose() => Socket.Dispose();
}
