using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using VizHtml;

/// <summary>
/// Scenario "binary" (issue 14): what large byte payloads cost the server as binary messages against base64 in JSON, in
/// the same run. The server is a child process (this program with <c>binary-server</c>, under <c>taskset -c 0</c> when
/// there is one), so its own process time is the server's CPU; the clients read in this process. Each case sends
/// <c>count</c> events of <c>size</c> random bytes to every client, one <c>SendAllAsync</c> after another (each awaits
/// every socket), and the clients acknowledge as <c>vizhtml.js</c> does:
/// <list type="bullet">
/// <item><c>binary</c>: <c>SendAllAsync("b", new { i, data = bytes })</c> to clients granted <c>binary</c>: one binary message each.</item>
/// <item><c>base64</c>: <c>SendAllAsync("b", new { i, data = Convert.ToBase64String(bytes) })</c>, the way a program sends
/// bytes without binary messages (the original toolkit's sample): JSON text.</item>
/// <item><c>bytes-to-text</c>: the binary case's call to clients that did not ask for binary: the server writes the
/// base64 JSON itself, once per event.</item>
/// </list>
/// </summary>
internal static class BinaryPayloads
{
    private const string Heading = "## Binary payloads against base64 JSON (issue 14)";

    private static readonly string[] Cases = ["binary", "base64", "bytes-to-text"];

    public static async Task<int> RunAsync(int runs, int clients, int sizeKb, int count, string? write)
    {
        var size = sizeKb * 1024;
        using var server = StartServer();
        var listening = await server.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the binary-server process ended before it listened");
        var port = int.Parse(listening.Split(' ')[1], CultureInfo.InvariantCulture);
        var results = Cases.ToDictionary(c => c, _ => new List<(double CpuMsPerMb, double MbPerSecond)>());

        // Warm-up (JIT, the server's serializer rentals, socket buffers) of every case, not counted.
        foreach (var name in Cases)
        {
            await MeasureAsync(server, port, name, clients, Math.Max(2, count / 5), size);
        }

        for (var run = 1; run <= runs; run++)
        {
            // Each run goes through the cases in another order, so no case always comes first.
            foreach (var name in Cases.Skip(run % Cases.Length).Concat(Cases.Take(run % Cases.Length)))
            {
                var (cpuMsPerMb, mbPerSecond) = await MeasureAsync(server, port, name, clients, count, size);
                results[name].Add((cpuMsPerMb, mbPerSecond));
                Console.WriteLine($"run {run} {name}: {cpuMsPerMb:0.00} ms server CPU per MB, {mbPerSecond:N0} MB/s delivered");
            }
        }

        await server.StandardInput.WriteLineAsync("exit");
        await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var binaryCpu = Median(results["binary"].Select(r => r.CpuMsPerMb));
        string Row(string name, string what)
        {
            var cpu = Median(results[name].Select(r => r.CpuMsPerMb));
            var rate = Median(results[name].Select(r => r.MbPerSecond));
            return $"| {what} | {cpu:0.00} | {cpu / binaryCpu:0.0}× | {rate:N0} |";
        }

        var base64Ratio = Median(results["base64"].Select(r => r.CpuMsPerMb)) / binaryCpu;
        var report = $"""
            {Heading}

            {count} events of {sizeKb} KB of random bytes to each of {clients} clients, one `SendAllAsync` after another (each
            completes when every socket took it). The server runs in a process of its own{(File.Exists("/usr/bin/taskset") ? " on core 0" : string.Empty)},
            and its process time is the server CPU; the clients read and acknowledge in the benchmark's process. MB are payload
            megabytes (10⁶ bytes) delivered, counted at every client. Medians of {runs} runs after one uncounted warm-up of each
            case; the cases take turns going first.

            | case | server CPU ms per MB | × binary | MB/s delivered |
            |---|---:|---:|---:|
            {Row("binary", "binary message (`byte[]` in the data, client granted `binary`)")}
            {Row("base64", "base64 JSON (`Convert.ToBase64String` in the data)")}
            {Row("bytes-to-text", "`byte[]` to clients without `binary` (server writes base64)")}

            Target (issue 14): binary at least 3× cheaper than base64 JSON in server CPU per MB: {(base64Ratio >= 3 ? "met" : "not met")} ({base64Ratio:0.0}×).
            Runs (CPU ms per MB): {string.Join("; ", Cases.Select(c => $"{c} {string.Join(", ", results[c].Select(r => r.CpuMsPerMb.ToString("0.00", CultureInfo.InvariantCulture)))}"))}.
            Command: `dotnet run -c Release --project bench/VizHtml.Bench -- binary --runs {runs} --clients {clients} --size-kb {sizeKb} --count {count} --write docs/benchmarks.md`
            (measured {DateTime.UtcNow:yyyy-MM-dd}, .NET {Environment.Version}, {Environment.ProcessorCount} cores).

            """;
        Console.WriteLine(report);
        if (write is not null)
        {
            await Report.WriteSectionAsync(write, Heading, report);
        }

        return 0;
    }

    /// <summary>One case: connects the clients, has the server send, and returns its CPU per delivered MB and the delivery rate.</summary>
    private static async Task<(double CpuMsPerMb, double MbPerSecond)> MeasureAsync(Process server, int port, string name, int clients, int count, int size)
    {
        var sockets = new List<ClientWebSocket>();
        for (var i = 0; i < clients; i++)
        {
            sockets.Add(await ConnectAsync(port, binary: name != "bytes-to-text"));
        }

        var received = new long[clients];
        using var stop = new CancellationTokenSource();
        var reading = sockets.Select((socket, index) => Task.Run(() => ReadAsync(socket, received, index, stop.Token))).ToArray();
        await server.StandardInput.WriteLineAsync($"run {name} {count} {size} {clients}");
        var answer = (await server.StandardOutput.ReadLineAsync())!.Split(' ');
        if (answer[0] != "done")
        {
            throw new InvalidOperationException($"the server answered '{string.Join(' ', answer)}'");
        }

        var elapsedNs = long.Parse(answer[1], CultureInfo.InvariantCulture);
        var cpuNs = long.Parse(answer[2], CultureInfo.InvariantCulture);

        // Every socket took every event when SendAllAsync completed; the clients may still be reading the last one.
        var deadline = Stopwatch.StartNew();
        while (received.Any(r => r < count) && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(5);
        }

        if (received.Any(r => r < count))
        {
            throw new InvalidOperationException($"{name}: the clients received {string.Join(", ", received)} of {count} events");
        }

        await stop.CancelAsync();
        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }

        await Task.WhenAll(reading);

        // The next case connects clients of its own: wait until the server has seen these go.
        do
        {
            await server.StandardInput.WriteLineAsync("clients");
        }
        while ((await server.StandardOutput.ReadLineAsync()) != "clients 0" && await Task.Delay(5).ContinueWith(_ => true));

        var megabytes = (double)count * size * clients / 1e6;
        return (cpuNs / 1e6 / megabytes, megabytes / (elapsedNs / 1e9));
    }

    private static async Task<ClientWebSocket> ConnectAsync(int port, bool binary)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/vizhtml/socket?v=2"), CancellationToken.None);
        var hello = $$$"""{"event":"$hello","data":{"v":2,"token":null,"lastSeq":0,"batch":true{{{(binary ? ",\"binary\":true" : string.Empty)}}}}}""";
        await socket.SendAsync(Encoding.UTF8.GetBytes(hello), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[4096];
        var welcome = await socket.ReceiveAsync(buffer, CancellationToken.None);
        if (!Encoding.UTF8.GetString(buffer, 0, welcome.Count).Contains("$welcome", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("no $welcome");
        }

        return socket;
    }

    /// <summary>Reads whole messages, counts the "b" events, and acknowledges each by the seq it starts with.</summary>
    private static async Task ReadAsync(ClientWebSocket socket, long[] received, int index, CancellationToken stop)
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), stop);
                var first = buffer.AsSpan(0, result.Count);

                // The seq is in the first read: {"seq":N,… in a text message, after the 4-byte length in a binary one.
                var json = result.MessageType == WebSocketMessageType.Binary ? first[4..] : first;
                var seq = json.StartsWith("{\"seq\":"u8) ? ParseSeq(json[7..]) : 0;
                while (!result.EndOfMessage)
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(), stop);
                }

                if (seq > 0)
                {
                    Interlocked.Increment(ref received[index]);
                    var ack = Encoding.UTF8.GetBytes($$$"""{"event":"$ack","data":{"seq":{{{seq}}}}}""");
                    await socket.SendAsync(ack, WebSocketMessageType.Text, true, stop);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }

    private static long ParseSeq(ReadOnlySpan<byte> digits)
    {
        long seq = 0;
        foreach (var digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                break;
            }

            seq = (seq * 10) + (digit - '0');
        }

        return seq;
    }

    private static Process StartServer()
    {
        // This program again: "dotnet VizHtml.Bench.dll" when run that way, else its own executable (dotnet run).
        var host = Environment.ProcessPath!;
        var throughDotnet = Path.GetFileNameWithoutExtension(host) == "dotnet";
        var taskset = File.Exists("/usr/bin/taskset");
        var start = new ProcessStartInfo(taskset ? "/usr/bin/taskset" : host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (taskset)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("0");
            start.ArgumentList.Add(host);
        }

        if (throughDotnet)
        {
            start.ArgumentList.Add(typeof(BinaryPayloads).Assembly.Location);
        }

        start.ArgumentList.Add("binary-server");
        var process = Process.Start(start) ?? throw new InvalidOperationException("the server did not start");
        if (taskset)
        {
            // The clients keep to the other core.
            var pin = new ProcessStartInfo("/usr/bin/taskset", ["-a", "-cp", "1", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true };
            using var pinning = Process.Start(pin);
            pinning?.StandardOutput.ReadToEnd();
            pinning?.WaitForExit();
        }

        return process;
    }

    /// <summary>
    /// The child: a VizHtml server that answers <c>run CASE COUNT SIZE CLIENTS</c> with <c>done ELAPSED_NS CPU_NS</c> once
    /// the clients are connected and every event went out, <c>clients</c> with <c>clients N</c>, and <c>exit</c> by stopping.
    /// </summary>
    public static async Task<int> ServeAsync()
    {
        await using var server = new VizHtmlServer(new VizHtmlOptions
        {
            Port = 0,
            BindAddress = IPAddress.Loopback,
            LoggerFactory = NullLoggerFactory.Instance,
            MaxMessagesPerSecond = 1_000_000,
        });
        await server.StartAsync();
        Console.WriteLine($"listening {server.Port}");
        while (Console.ReadLine() is { } line)
        {
            var words = line.Split(' ');
            if (words[0] == "exit")
            {
                break;
            }

            if (words[0] == "clients")
            {
                Console.WriteLine($"clients {server.ClientCount}");
                continue;
            }

            var (name, count, size, clients) = (words[1], int.Parse(words[2], CultureInfo.InvariantCulture), int.Parse(words[3], CultureInfo.InvariantCulture), int.Parse(words[4], CultureInfo.InvariantCulture));
            while (server.ClientCount < clients)
            {
                await Task.Delay(5);
            }

            var bytes = RandomNumberGenerator.GetBytes(size);
            var process = Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                // Each event has its own bytes, as camera frames would: the first four change.
                BinaryPrimitives.WriteInt32LittleEndian(bytes, i);
                object data = name == "base64" ? new { i, data = Convert.ToBase64String(bytes) } : new { i, data = bytes };
                await server.SendAllAsync("b", data);
            }

            var elapsed = clock.Elapsed;
            process.Refresh();
            var cpu = process.TotalProcessorTime - cpuBefore;
            Console.WriteLine($"done {(long)(elapsed.TotalMilliseconds * 1e6)} {(long)(cpu.TotalMilliseconds * 1e6)}");
        }

        return 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
