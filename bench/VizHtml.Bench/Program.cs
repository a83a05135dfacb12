using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using VizHtml;

// VizHtml's benchmarks.
// Scenario "slow-consumer": a hundred clients receive a steady broadcast; the same again with one more client that never
// reads. The figure is the readers' delivery rate in both runs and their ratio.
//   dotnet run -c Release --project bench/VizHtml.Bench -- slow-consumer [--runs 3] [--seconds 5] [--write docs/benchmarks.md]
// Scenario "away-sessions": what one SendAll costs its caller with 1,000 clients connected, alone and with 10,000 more
// away (connection lost, may resume). See AwaySessions.cs.
//   dotnet run -c Release --project bench/VizHtml.Bench -- away-sessions [--runs 3] [--away 10000] [--write docs/benchmarks.md]
// Scenario "binary" (issue 14): server CPU per MB and MB/s of byte payloads as binary messages against base64 JSON, in
// one run, the server in a child process. See BinaryPayloads.cs.
//   dotnet run -c Release --project bench/VizHtml.Bench -- binary [--runs 3] [--clients 4] [--size-kb 512] [--count 40] [--write docs/benchmarks.md]
var runs = Option("--runs", 3);
var seconds = Option("--seconds", 5);
var write = args.SkipWhile(a => a != "--write").Skip(1).FirstOrDefault();

// --socket-send-buffer N: the server's SocketSendBufferBytes (0: the system's sizing), to compare the two.
var sendBuffer = Option("--socket-send-buffer", new VizHtmlOptions().SocketSendBufferBytes);
if (args.FirstOrDefault() == "binary-server")
{
    return await BinaryPayloads.ServeAsync();
}

if (args.FirstOrDefault() == "binary")
{
    return await BinaryPayloads.RunAsync(runs, Option("--clients", 4), Option("--size-kb", 512), Option("--count", 40), write);
}

if (args.FirstOrDefault() == "away-sessions")
{
    return await AwaySessions.RunAsync(runs, Option("--connected", 1000), Option("--away", 10_000), write);
}

if (args.FirstOrDefault() != "slow-consumer")
{
    Console.Error.WriteLine("usage: VizHtml.Bench slow-consumer [--runs N] [--seconds S] [--write FILE]\n       VizHtml.Bench away-sessions [--runs N] [--connected N] [--away N] [--write FILE]\n       VizHtml.Bench binary [--runs N] [--clients N] [--size-kb N] [--count N] [--write FILE]");
    return 2;
}

var without = new List<double>();
var with = new List<double>();

// Warm-up (JIT, tiered compilation, thread pool growth), not counted; then the two cases alternate which goes first.
await MeasureAsync(stalled: false, TimeSpan.FromSeconds(seconds), sendBuffer);
for (var run = 1; run <= runs; run++)
{
    if (run % 2 == 1)
    {
        without.Add(await MeasureAsync(stalled: false, TimeSpan.FromSeconds(seconds), sendBuffer));
        with.Add(await MeasureAsync(stalled: true, TimeSpan.FromSeconds(seconds), sendBuffer));
    }
    else
    {
        with.Add(await MeasureAsync(stalled: true, TimeSpan.FromSeconds(seconds), sendBuffer));
        without.Add(await MeasureAsync(stalled: false, TimeSpan.FromSeconds(seconds), sendBuffer));
    }

    Console.WriteLine($"run {run}: {without[^1]:N0} deliveries/s without, {with[^1]:N0} with a stalled client");
}

var medianWithout = Median(without);
var medianWith = Median(with);
var report = $"""
    ## One slow client never hurts the others

    100 clients receive a broadcast of 1 KB events as fast as the slowest of them reads; the same again with a 101st
    client that never reads (its queue overflows and it is disconnected with 4008). Server, readers and producer share
    one process on this 2-core machine; each run lasts {seconds} s after one uncounted warm-up run; the two cases alternate
    which goes first; medians of {runs} runs.

    | | deliveries/s to the 100 readers |
    |---|---:|
    | without a stalled client | {medianWithout:N0} |
    | with one stalled client | {medianWith:N0} |
    | ratio (with / without) | {medianWith / medianWithout:0.00} |

    Socket send buffer: {(sendBuffer == 0 ? "the system's sizing" : $"{sendBuffer / 1024} KiB")}. Runs: without {string.Join(", ", without.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))}; with {string.Join(", ", with.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))}.
    Command: `dotnet run -c Release --project bench/VizHtml.Bench -- slow-consumer --runs {runs} --seconds {seconds} --write docs/benchmarks.md`
    (measured {DateTime.UtcNow:yyyy-MM-dd}, .NET {Environment.Version}, {Environment.ProcessorCount} cores).

    """;
Console.WriteLine(report);
if (write is not null)
{
    await Report.WriteSectionAsync(write, "## One slow client never hurts the others", report);
}

return 0;

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static async Task<double> MeasureAsync(bool stalled, TimeSpan duration, int sendBuffer)
{
    await using var server = new VizHtmlServer(new VizHtmlOptions
    {
        Port = 0,
        BindAddress = IPAddress.Loopback,
        LoggerFactory = NullLoggerFactory.Instance,
        MaxConnectionsPerAddress = 1000,
        MaxQueuedBytes = 1024 * 1024,
        SocketSendBufferBytes = sendBuffer,
    });
    await server.StartAsync();
    var uri = new Uri($"ws://127.0.0.1:{server.Port}/vizhtml/socket");
    var readers = new List<ClientWebSocket>();
    for (var i = 0; i < 100; i++)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(uri, CancellationToken.None);
        readers.Add(socket);
    }

    using var silent = stalled ? await ConnectSilentAsync(server.Port) : null;
    while (server.ClientCount < readers.Count + (stalled ? 1 : 0))
    {
        await Task.Delay(10);
    }

    var counts = new long[readers.Count];
    using var stop = new CancellationTokenSource();
    var reading = readers.Select((socket, index) => Task.Run(() => ReadAsync(socket, counts, index, stop.Token))).ToArray();
    var payload = new { data = new string('x', 1000) };
    var clock = Stopwatch.StartNew();
    long sent = 0;
    while (clock.Elapsed < duration)
    {
        // Paced by the slowest reader, never by the stalled client: at most 64 events in flight.
        if (sent - counts.Min() < 64)
        {
            server.SendAll("tick", payload);
            sent++;
        }
        else
        {
            await Task.Yield();
        }
    }

    var elapsed = clock.Elapsed.TotalSeconds;
    var delivered = counts.Sum();
    await stop.CancelAsync();
    await Task.WhenAll(reading);
    foreach (var socket in readers)
    {
        socket.Dispose();
    }

    return delivered / elapsed;
}

static async Task ReadAsync(ClientWebSocket socket, long[] counts, int index, CancellationToken stop)
{
    var buffer = new byte[4096];
    try
    {
        while (!stop.IsCancellationRequested)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), stop);
            if (result.EndOfMessage)
            {
                Interlocked.Increment(ref counts[index]);
            }
        }
    }
    catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
    {
    }
}

static async Task<Socket> ConnectSilentAsync(int port)
{
    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
    await socket.ConnectAsync(IPAddress.Loopback, port);
    var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
    await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /vizhtml/socket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"));

    // Read the 101 response, then never read again.
    var response = new byte[1024];
    var read = 0;
    while (!Encoding.ASCII.GetString(response, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
    {
        read += await socket.ReceiveAsync(response.AsMemory(read));
    }

    return socket;
}
