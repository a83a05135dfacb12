using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using VizHtml;

/// <summary>
/// What one <c>SendAll</c> costs its caller (the time the call takes) with N clients connected, alone and with M more
/// away: protocol version 2 sessions whose connection was reset after their hello, which may still resume. The connected
/// clients speak version 2 too, read everything and acknowledge every 64 events, as <c>vizhtml.js</c> does. A 64-byte
/// reliable event is broadcast 100 times a second for 10 seconds per run; the figures are the calls' p50, p99 and max.
/// </summary>
internal static class AwaySessions
{
    private const int BroadcastsPerSecond = 100;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(int runs, int connected, int away, string? write)
    {
        var alone = new List<Percentiles>();
        var withAway = new List<Percentiles>();

        // One uncounted warm-up, then the two cases alternate which goes first.
        await MeasureAsync(connected, away: 0);
        for (var run = 1; run <= runs; run++)
        {
            if (run % 2 == 1)
            {
                alone.Add(await MeasureAsync(connected, 0));
                withAway.Add(await MeasureAsync(connected, away));
            }
            else
            {
                withAway.Add(await MeasureAsync(connected, away));
                alone.Add(await MeasureAsync(connected, 0));
            }

            Console.WriteLine($"run {run}: alone {alone[^1]}; with {away:N0} away {withAway[^1]}");
        }

        var a = Percentiles.Median(alone);
        var w = Percentiles.Median(withAway);
        var report = $"""
            ## Broadcast with clients away

            What one `SendAll` of a 64-byte reliable event costs its caller, with {connected:N0} clients connected (protocol
            version 2, reading everything, acknowledging every 64 events), alone and with {away:N0} more clients away
            (their connection reset after the hello; they may still resume). {BroadcastsPerSecond} broadcasts a second for
            {Duration.TotalSeconds:0} s per run after one uncounted warm-up run; the two cases alternate which goes first;
            medians of {runs} runs. Server and clients share one process on this {Environment.ProcessorCount}-core machine.

            | | p50 | p99 | max |
            |---|---:|---:|---:|
            | {connected:N0} connected | {a.P50:0.000} ms | {a.P99:0.000} ms | {a.Max:0.000} ms |
            | {connected:N0} connected + {away:N0} away | {w.P50:0.000} ms | {w.P99:0.000} ms | {w.Max:0.000} ms |
            | ratio (with away / alone) | {w.P50 / a.P50:0.00} | {w.P99 / a.P99:0.00} | {w.Max / a.Max:0.00} |

            Runs (p99): alone {string.Join(", ", alone.Select(p => p.P99.ToString("0.000", CultureInfo.InvariantCulture)))}; with away {string.Join(", ", withAway.Select(p => p.P99.ToString("0.000", CultureInfo.InvariantCulture)))} ms.
            Command: `dotnet run -c Release --project bench/VizHtml.Bench -- away-sessions --runs {runs} --away {away} --write docs/benchmarks.md`
            (measured {DateTime.UtcNow:yyyy-MM-dd}, .NET {Environment.Version}).

            """;
        Console.WriteLine(report);
        if (write is not null)
        {
            await Report.WriteSectionAsync(write, "## Broadcast with clients away", report);
        }

        return 0;
    }

    private static async Task<Percentiles> MeasureAsync(int connected, int away)
    {
        await using var server = new VizHtmlServer(new VizHtmlOptions
        {
            Port = 0,
            BindAddress = IPAddress.Loopback,
            LoggerFactory = NullLoggerFactory.Instance,
            MaxConnections = connected + away + 100,
            MaxConnectionsPerAddress = connected + away + 100,
            MaxAwaySessions = away + 100,
        });
        await server.StartAsync();
        var uri = new Uri($"ws://127.0.0.1:{server.Port}/vizhtml/socket?v=2");

        for (var i = 0; i < away; i++)
        {
            await HelloThenResetAsync(server.Port);
        }

        var readers = new List<ClientWebSocket>();
        for (var i = 0; i < connected; i++)
        {
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(uri, CancellationToken.None);
            await socket.SendAsync(Encoding.UTF8.GetBytes("""{"event":"$hello","data":{"v":2,"lastSeq":0}}"""), WebSocketMessageType.Text, true, CancellationToken.None);
            readers.Add(socket);
        }

        while (server.ClientCount < connected || server.AwayCount < away)
        {
            await Task.Delay(10);
        }

        using var stop = new CancellationTokenSource();
        var reading = readers.Select(socket => Task.Run(() => ReadAndAcknowledgeAsync(socket, stop.Token))).ToArray();
        var payload = new string('x', 40);
        var samples = new List<double>();
        var clock = Stopwatch.StartNew();
        var n = 0;
        while (clock.Elapsed < Duration)
        {
            var started = Stopwatch.GetTimestamp();
            server.SendAll("tick", payload);
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            n++;
            var due = TimeSpan.FromSeconds(n / (double)BroadcastsPerSecond);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }
        }

        if (server.AwayCount < away)
        {
            throw new InvalidOperationException($"only {server.AwayCount} of {away} clients were still away at the end");
        }

        await stop.CancelAsync();
        await Task.WhenAll(reading);
        foreach (var socket in readers)
        {
            socket.Dispose();
        }

        return Percentiles.Of(samples);
    }

    private static async Task ReadAndAcknowledgeAsync(ClientWebSocket socket, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        long lastSeq = 0, acked = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), stop);
                if (!result.EndOfMessage || result.Count < 8 || buffer[2] != (byte)'s')
                {
                    continue;
                }

                // {"seq":N,...}: the number is all an acknowledgement needs (read by hand: the readers must cost little).
                lastSeq = 0;
                for (var i = 7; i < result.Count && buffer[i] is >= (byte)'0' and <= (byte)'9'; i++)
                {
                    lastSeq = (lastSeq * 10) + (buffer[i] - '0');
                }

                if (lastSeq - acked >= 64)
                {
                    acked = lastSeq;
                    await socket.SendAsync(Encoding.UTF8.GetBytes($"{{\"event\":\"$ack\",\"data\":{{\"seq\":{acked}}}}}"), WebSocketMessageType.Text, true, stop);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
    }

    private static async Task HelloThenResetAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /vizhtml/socket?v=2 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var response = new byte[4096];
        var read = 0;
        while (!Encoding.ASCII.GetString(response, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            read += await socket.ReceiveAsync(response.AsMemory(read));
        }

        // A masked $hello, then wait for the welcome's first bytes, then a TCP reset.
        var hello = Encoding.UTF8.GetBytes("""{"event":"$hello","data":{"v":2,"lastSeq":0}}""");
        var mask = RandomNumberGenerator.GetBytes(4);
        var frame = new byte[6 + hello.Length];
        frame[0] = 0x81;
        frame[1] = (byte)(0x80 | hello.Length);
        mask.CopyTo(frame, 2);
        for (var i = 0; i < hello.Length; i++)
        {
            frame[6 + i] = (byte)(hello[i] ^ mask[i % 4]);
        }

        await socket.SendAsync(frame);
        await socket.ReceiveAsync(response.AsMemory());
        socket.LingerState = new LingerOption(true, 0);
    }

    private readonly record struct Percentiles(double P50, double P99, double Max)
    {
        public static Percentiles Of(List<double> samples)
        {
            var sorted = samples.Order().ToArray();
            return new Percentiles(sorted[sorted.Length / 2], sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(sorted.Length * 0.99) - 1)], sorted[^1]);
        }

        public static Percentiles Median(List<Percentiles> runs) => new(Mid(runs.Select(r => r.P50)), Mid(runs.Select(r => r.P99)), Mid(runs.Select(r => r.Max)));

        public override string ToString() => $"p50 {P50:0.000} ms, p99 {P99:0.000} ms, max {Max:0.000} ms";

        private static double Mid(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }
}
