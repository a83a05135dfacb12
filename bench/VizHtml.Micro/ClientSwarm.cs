using System.Globalization;
using System.Net.WebSockets;
using System.Text;

namespace VizHtml.Micro;

/// <summary>
/// The receiving side of the broadcast benchmarks, run as a child process (<c>--clients PORT N v1|v2</c>) so that its
/// allocations and threads are not counted as the server's. Connects N loopback WebSocket clients, then each one keeps
/// reading on its own task and counts the envelopes it receives; v2 clients announce batching and acknowledge now and
/// then so the server's replay buffer stays small.
/// Protocol on stdio: prints <c>connected N</c> once every client is in; answers <c>count</c> with
/// <c>count RECEIVED CLOSED</c>; exits on <c>exit</c> or when stdin closes.
/// </summary>
internal static class ClientSwarm
{
    private const int AckEvery = 256;
    private static readonly long AckIntervalTicks = System.Diagnostics.Stopwatch.Frequency / 10; // 100 ms

    public static async Task<int> RunAsync(int port, int clients, bool v2)
    {
        var uri = new Uri($"ws://127.0.0.1:{port}/vizhtml/socket{(v2 ? "?v=2" : string.Empty)}");
        var received = new long[clients * 8]; // one cache line per client: no false sharing between readers
        var closed = 0;
        using var stop = new CancellationTokenSource();
        var sockets = new ClientWebSocket[clients];
        var readers = new Task[clients];

        // Connect in small waves: a thousand handshakes at once only queue up behind each other.
        const int Wave = 50;
        for (var start = 0; start < clients; start += Wave)
        {
            var wave = Enumerable.Range(start, Math.Min(Wave, clients - start)).Select(async i =>
            {
                sockets[i] = await ConnectAsync(uri, v2, stop.Token);
            });
            await Task.WhenAll(wave);
        }

        for (var i = 0; i < clients; i++)
        {
            var index = i;
            readers[i] = Task.Run(async () =>
            {
                try
                {
                    await ReadAsync(sockets[index], v2, received, index * 8, stop.Token);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
                {
                }

                if (!stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref closed);
                    var socket = sockets[index];
                    await Console.Error.WriteLineAsync($"client {index} lost its connection: {socket.State} {socket.CloseStatus} {socket.CloseStatusDescription}");
                }
            });
        }

        Console.WriteLine($"connected {clients}");
        while (await Console.In.ReadLineAsync() is { } line)
        {
            if (line == "count")
            {
                long total = 0;
                for (var i = 0; i < clients; i++)
                {
                    total += Volatile.Read(ref received[i * 8]);
                }

                Console.WriteLine($"count {total} {Volatile.Read(ref closed)}");
            }
            else if (line == "exit")
            {
                break;
            }
        }

        await stop.CancelAsync();
        foreach (var socket in sockets)
        {
            socket.Abort();
        }

        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        return 0;
    }

    private static async Task<ClientWebSocket> ConnectAsync(Uri uri, bool v2, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(uri, cancellationToken);
        if (!v2)
        {
            return socket;
        }

        var hello = """{"event":"$hello","data":{"v":2,"token":null,"lastSeq":0,"batch":true}}"""u8.ToArray();
        await socket.SendAsync(hello, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

        // The welcome comes alone in its own frame, before any broadcast can reach this client.
        var buffer = new byte[4096];
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            length += result.Count;
        }
        while (!result.EndOfMessage && length < buffer.Length);

        var welcome = Encoding.UTF8.GetString(buffer, 0, length);
        if (!welcome.Contains("\"$welcome\"", StringComparison.Ordinal) || !welcome.Contains("\"batch\":true", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"expected a $welcome that turns batching on, got: {welcome}");
        }

        return socket;
    }

    /// <summary>
    /// Reads until the connection ends. v1: one envelope per message. v2: counts the <c>"seq":</c> members and remembers
    /// the highest number, with a matcher that carries its state across reads, so nothing is buffered per message.
    /// </summary>
    private static async Task ReadAsync(ClientWebSocket socket, bool v2, long[] received, int slot, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var scanner = new SeqScanner();
        long acknowledged = 0;
        var lastAck = System.Diagnostics.Stopwatch.GetTimestamp();
        var ack = new byte[64];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            if (!v2)
            {
                if (result.EndOfMessage)
                {
                    Volatile.Write(ref received[slot], received[slot] + 1);
                }

                continue;
            }

            var count = scanner.Scan(buffer.AsSpan(0, result.Count));
            if (count > 0)
            {
                Volatile.Write(ref received[slot], received[slot] + count);
            }

            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            var highest = scanner.Highest;
            if (highest > acknowledged && (highest - acknowledged >= AckEvery || now - lastAck >= AckIntervalTicks))
            {
                var length = WriteAck(ack, highest);
                await socket.SendAsync(ack.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                acknowledged = highest;
                lastAck = now;
            }
        }
    }

    private static int WriteAck(Span<byte> into, long seq)
    {
        var prefix = """{"event":"$ack","data":{"seq":"""u8;
        prefix.CopyTo(into);
        seq.TryFormat(into[prefix.Length..], out var digits, provider: CultureInfo.InvariantCulture);
        var length = prefix.Length + digits;
        into[length++] = (byte)'}';
        into[length++] = (byte)'}';
        return length;
    }

    /// <summary>Finds <c>"seq":N</c> in a byte stream read in pieces of any size.</summary>
    private sealed class SeqScanner
    {
        private int _matched;
        private bool _inNumber;
        private long _number;

        public long Highest { get; private set; }

        /// <summary>Returns how many <c>"seq":</c> members began in <paramref name="bytes"/>.</summary>
        public long Scan(ReadOnlySpan<byte> bytes)
        {
            ReadOnlySpan<byte> pattern = "\"seq\":"u8;
            long count = 0;
            foreach (var b in bytes)
            {
                if (_inNumber)
                {
                    if (b is >= (byte)'0' and <= (byte)'9')
                    {
                        _number = (_number * 10) + (b - '0');
                        continue;
                    }

                    _inNumber = false;
                    Highest = Math.Max(Highest, _number);
                }

                if (b == pattern[_matched])
                {
                    if (++_matched == pattern.Length)
                    {
                        _matched = 0;
                        _inNumber = true;
                        _number = 0;
                        count++;
                    }
                }
                else
                {
                    _matched = b == pattern[0] ? 1 : 0;
                }
            }

            return count;
        }
    }
}
