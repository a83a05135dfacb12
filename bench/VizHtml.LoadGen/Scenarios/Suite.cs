using System.Globalization;
using VizHtml.LoadGen.Net;
using VizHtml.LoadGen.Results;
using VizHtml.LoadGen.Servers;

namespace VizHtml.LoadGen.Scenarios;

/// <summary>
/// Runs every scenario against every server, run after run. Within a run the servers take turns, so each run's
/// figures for all servers come from the same few minutes of this shared machine. Each server process serves echo,
/// host-app, sustained, broadcast and storm in that order (each ends with every client closed, so nothing carries over); idle
/// memory gets fresh processes so their baselines are clean.
/// </summary>
internal sealed class Suite(SuiteOptions options, ResultCollector results)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string BroadcastScenario(int clients, int size) => $"broadcast-{clients}x{size}";

    public static string EchoScenario(int clients, int size) => $"echo-{clients}x{size}";

    public string HostAppScenario => $"hostapp-{options.HostAppClients}x{options.HostAppHz}hz-{options.HostAppBytes}";

    public string FewTabletsScenario => $"fewtablets-{options.FewTabletsClients}x{options.FewTabletsHz}hz-{options.FewTabletsBytes}";

    public string SustainedScenario => $"sustained-{options.SustainedClients}x{options.SustainedHz}hz-{options.SustainedBytes}";

    public string StormScenario => $"storm-{options.StormConnections}";

    public string IdleScenario => $"idle-{options.IdleConnections}";

    public static string IdleMaxScenario => "idle-max";

    public void Run()
    {
        for (var run = 1; run <= options.Runs; run++)
        {
            foreach (var name in options.Servers)
            {
                var spec = ServerCatalog.Find(name)!;
                Console.WriteLine($"== run {run}/{options.Runs}: {name}");
                if (options.Scenarios.Any(s => s is not "idle"))
                {
                    Guard(name, "live scenarios", () => RunLive(spec));
                }

                if (options.Scenarios.Contains("idle"))
                {
                    Guard(name, "idle", () => RunIdle(spec));
                }

                results.Write(options.ResultsPath);
            }
        }
    }

    /// <summary>One server's failure (it would not start, stopped answering, crashed) is noted and the suite goes on.</summary>
    private void Guard(string server, string what, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Console.WriteLine($"   {server}: {what} failed: {ex.Message}");
            results.Note("errors", server, $"{what}: {ex.Message}");
        }
    }

    private void RunLive(ServerSpec spec)
    {
        using var server = ServerProcess.Start(spec, options.RepoRoot, options.LogDirectory);
        using var reactor = new Reactor(server.Port);
        var live = new LiveSession(server, reactor, options);
        if (options.Scenarios.Contains("echo"))
        {
            foreach (var clients in options.EchoClients)
            {
                Echo(live, clients);
            }
        }

        if (options.Scenarios.Contains("hostapp"))
        {
            Stream(live, HostAppScenario, options.HostAppClients, options.HostAppHz, options.HostAppSeconds, options.HostAppBytes);
        }

        if (options.Scenarios.Contains("fewtablets"))
        {
            Stream(live, FewTabletsScenario, options.FewTabletsClients, options.FewTabletsHz, options.FewTabletsSeconds, options.FewTabletsBytes);
        }

        if (options.Scenarios.Contains("sustained"))
        {
            Stream(live, SustainedScenario, options.SustainedClients, options.SustainedHz, options.SustainedSeconds, options.SustainedBytes);
        }

        if (options.Scenarios.Contains("broadcast"))
        {
            foreach (var clients in options.BroadcastClients)
            {
                Broadcast(live, clients);
            }
        }

        if (options.Scenarios.Contains("storm"))
        {
            Storm(live);
        }
    }

    private void Echo(LiveSession live, int clients)
    {
        var scenario = EchoScenario(clients, options.EchoBytes);
        var name = live.Server.Spec.Name;
        var reactor = live.Reactor;
        if (!live.Open(clients, scenario, results))
        {
            return;
        }

        reactor.Mode = DeliveryMode.Echo;
        reactor.EchoPayloadBytes = options.EchoBytes;
        reactor.EchoRunning = true;
        reactor.Latencies = null;
        foreach (var connection in reactor.Connections.Where(c => c.State == ConnectionState.Open).ToList())
        {
            reactor.SendEcho(connection);
        }

        live.Pump(options.EchoWarmup);
        var latencies = new LatencyRecorder();
        reactor.Latencies = latencies;
        reactor.ResetCounters();
        var window = Window.Start(live);
        live.Pump(options.EchoWindow);
        var measured = window.Stop(Reactor.TimestampNs());
        reactor.Latencies = null;
        reactor.EchoRunning = false;
        reactor.RunUntil(() => reactor.Connections.All(c => c.EchoSentNs == 0), TimeSpan.FromSeconds(2));
        reactor.Mode = DeliveryMode.Count;

        var roundTrips = latencies.Count;
        Console.WriteLine($"   {scenario}: {roundTrips / measured.Seconds:N0} round trips/s, p50 {latencies.PercentileMicroseconds(50):0.0} µs, p99 {latencies.PercentileMicroseconds(99):0.0} µs, p99.9 {latencies.PercentileMicroseconds(99.9):0.0} µs");
        if (roundTrips == 0)
        {
            results.Note(scenario, name, "no echo came back");
        }
        else
        {
            results.Add(scenario, name, "rtt_p50_us", "µs", "lower", latencies.PercentileMicroseconds(50));
            results.Add(scenario, name, "rtt_p99_us", "µs", "lower", latencies.PercentileMicroseconds(99));
            results.Add(scenario, name, "rtt_p999_us", "µs", "lower", latencies.PercentileMicroseconds(99.9));
            results.Add(scenario, name, "round_trips_per_s", "/s", "higher", roundTrips / measured.Seconds);
            results.Add(scenario, name, "cpu_us_per_round_trip", "µs", "lower", measured.ServerCpuUs / roundTrips);
            results.Add(scenario, name, "loadgen_cpu_us_per_round_trip", "µs", "lower", measured.LoadGenCpuUs / roundTrips);
        }

        live.CloseAll(scenario, results);
    }

    /// <summary>
    /// A steady stream from the server's own timer: one timestamped message per tick to every client. The host-app
    /// pattern (200 clients, 60 Hz, 1 KB) and the sustained broadcast (1,000 clients, 100 Hz, 64 B) are both this.
    /// </summary>
    private void Stream(LiveSession live, string scenario, int clients, int hz, int seconds, int size)
    {
        var name = live.Server.Spec.Name;
        var reactor = live.Reactor;
        if (!live.Open(clients, scenario, results))
        {
            return;
        }

        // Warm-up at the same rate, unmeasured: the .NET servers' hot methods reach their optimized tier before the window.
        reactor.ResetCounters();
        var warmSeconds = options.Quick ? 1 : 3;
        var warmTicks = long.Parse(live.Ask($"stream {hz} {warmSeconds} {size}", "streamed", TimeSpan.FromSeconds(warmSeconds + 60)).Split(' ')[1], Inv);
        reactor.RunUntil(() => reactor.Delivered >= warmTicks * clients, TimeSpan.FromSeconds(5));

        var latencies = new LatencyRecorder();
        reactor.Mode = DeliveryMode.OneWayLatency;
        reactor.Latencies = latencies;
        reactor.ResetCounters();
        var window = Window.Start(live);
        var answer = live.Ask($"stream {hz} {seconds} {size}", "streamed", TimeSpan.FromSeconds(seconds + 60));
        var measured = window.Stop(Reactor.TimestampNs());
        var ticks = long.Parse(answer.Split(' ')[1], Inv);
        var expected = ticks * clients;
        reactor.RunUntil(() => reactor.Delivered >= expected, TimeSpan.FromSeconds(5));
        reactor.Latencies = null;
        reactor.Mode = DeliveryMode.Count;

        var share = measured.ServerCpuUs / measured.WallUs * 100;
        Console.WriteLine($"   {scenario}: {ticks} ticks, {reactor.Delivered:N0}/{expected:N0} delivered, server CPU {share:0.00} % of a core ({measured.ServerCpuUs / Math.Max(1, measured.Delivered):0.00} µs/delivery), latency p50 {latencies.PercentileMicroseconds(50):0} µs p99 {latencies.PercentileMicroseconds(99):0} µs");
        results.Add(scenario, name, "server_cpu_pct", "% of a core", "lower", share);
        results.Add(scenario, name, "latency_p50_us", "µs", "lower", latencies.PercentileMicroseconds(50));
        results.Add(scenario, name, "latency_p99_us", "µs", "lower", latencies.PercentileMicroseconds(99));
        results.Add(scenario, name, "cpu_us_per_delivery", "µs", "lower", measured.ServerCpuUs / Math.Max(1, measured.Delivered));
        results.Add(scenario, name, "deliveries_per_s", "/s", "higher", measured.Delivered / measured.Seconds);
        // The .NET servers also say what each broadcast call cost the thread that made it (a frame loop's budget): wall time,
        // then the thread's own CPU time.
        var words = answer.Split(' ');
        if (words.Length >= 5 && double.TryParse(words[2], NumberStyles.Float, Inv, out var p50) && double.TryParse(words[3], NumberStyles.Float, Inv, out var p99)
            && double.TryParse(words[4], NumberStyles.Float, Inv, out var max))
        {
            Console.WriteLine($"   {scenario}: each broadcast call on the calling thread p50 {p50 / 1000:0.00} µs, p99 {p99 / 1000:0.00} µs, max {max / 1000:0.00} µs");
            results.Add(scenario, name, "call_p50_us", "µs", "lower", p50 / 1000);
            results.Add(scenario, name, "call_p99_us", "µs", "lower", p99 / 1000);
            results.Add(scenario, name, "call_max_us", "µs", "lower", max / 1000);
            if (words.Length >= 8 && double.TryParse(words[5], NumberStyles.Float, Inv, out var cpu50) && double.TryParse(words[6], NumberStyles.Float, Inv, out var cpu99)
                && double.TryParse(words[7], NumberStyles.Float, Inv, out var cpuMax) && cpuMax > 0)
            {
                Console.WriteLine($"   {scenario}: its own CPU time p50 {cpu50 / 1000:0.00} µs, p99 {cpu99 / 1000:0.00} µs, max {cpuMax / 1000:0.00} µs");
                results.Add(scenario, name, "call_cpu_p50_us", "µs", "lower", cpu50 / 1000);
                results.Add(scenario, name, "call_cpu_p99_us", "µs", "lower", cpu99 / 1000);
                results.Add(scenario, name, "call_cpu_max_us", "µs", "lower", cpuMax / 1000);
            }

            // The floor: five dictionary writes in the same moment of each tick, with the same clocks (ServerControl.Stream).
            if (words.Length >= 14 && double.TryParse(words[8], NumberStyles.Float, Inv, out var floor50) && double.TryParse(words[9], NumberStyles.Float, Inv, out var floor99)
                && double.TryParse(words[11], NumberStyles.Float, Inv, out var floorCpu50) && double.TryParse(words[12], NumberStyles.Float, Inv, out var floorCpu99))
            {
                Console.WriteLine($"   {scenario}: the floor (five dictionary writes in the same moment) p50 {floor50 / 1000:0.00} µs, p99 {floor99 / 1000:0.00} µs; CPU p50 {floorCpu50 / 1000:0.00} µs, p99 {floorCpu99 / 1000:0.00} µs");
                results.Add(scenario, name, "floor_p50_us", "µs", "lower", floor50 / 1000);
                results.Add(scenario, name, "floor_p99_us", "µs", "lower", floor99 / 1000);
                results.Add(scenario, name, "floor_cpu_p50_us", "µs", "lower", floorCpu50 / 1000);
                results.Add(scenario, name, "floor_cpu_p99_us", "µs", "lower", floorCpu99 / 1000);
            }
        }

        if (reactor.Delivered != expected)
        {
            results.Note(scenario, name, $"delivered {reactor.Delivered} of {expected}");
        }

        live.CloseAll(scenario, results);
    }

    private void Broadcast(LiveSession live, int clients)
    {
        var name = live.Server.Spec.Name;
        var reactor = live.Reactor;
        if (!live.Open(clients, BroadcastScenario(clients, options.BroadcastSizes[0]), results))
        {
            return;
        }

        foreach (var size in options.BroadcastSizes)
        {
            var scenario = BroadcastScenario(clients, size);
            var baseCount = options.BroadcastBaseCount(clients, size);

            // The warm-up also tells how fast this server goes, so the measured window lasts about as long for all.
            var warm = MeasureBroadcast(live, Math.Max(10, baseCount / 4), size);
            if (warm is null)
            {
                results.Note(scenario, name, $"warm-up incomplete: {Incomplete(reactor)}");
                break;
            }

            var perSecond = warm.Value.Delivered / warm.Value.Seconds;
            var count = (int)Math.Clamp(perSecond * options.BroadcastWindow.TotalSeconds / reactor.OpenCount, baseCount / 2, baseCount * 8);
            var measured = MeasureBroadcast(live, count, size);
            if (measured is not { } m)
            {
                Console.WriteLine($"   {scenario}: incomplete ({Incomplete(reactor)})");
                results.Note(scenario, name, $"incomplete: {Incomplete(reactor)}");
                break;
            }

            var loadGenShare = m.LoadGenCpuUs / m.WallUs * 100;
            Console.WriteLine($"   {scenario}: {count} msgs × {reactor.OpenCount} clients in {m.Seconds:0.00} s: {m.Delivered / m.Seconds:N0} deliveries/s, server {m.ServerCpuUs / m.Delivered:0.000} µs/delivery, load generator {m.LoadGenCpuUs / m.Delivered:0.000} µs/delivery ({loadGenShare:0} % busy)");
            results.Add(scenario, name, "deliveries_per_s", "/s", "higher", m.Delivered / m.Seconds);
            results.Add(scenario, name, "cpu_us_per_delivery", "µs", "lower", m.ServerCpuUs / m.Delivered);
            results.Add(scenario, name, "loadgen_cpu_us_per_delivery", "µs", "lower", m.LoadGenCpuUs / m.Delivered);
            results.Add(scenario, name, "loadgen_cpu_pct", "% of a core", "lower", loadGenShare);
            results.Add(scenario, name, "messages_per_client", "messages", "n/a", count);
            if (loadGenShare >= 90)
            {
                results.Note(scenario, name, "client-bound: the load generator's core was busy ≥ 90 % of the window, so deliveries/s is a floor");
            }
        }

        live.CloseAll(BroadcastScenario(clients, options.BroadcastSizes[0]), results);
    }

    private static string Incomplete(Reactor reactor)
    {
        var closes = string.Join(", ", reactor.CloseCodes.Select(p => $"{p.Value}× close {p.Key}"));
        return $"{reactor.Delivered:N0} delivered, {reactor.ClosedByServer} clients dropped by the server{(closes.Length > 0 ? $" ({closes})" : string.Empty)}";
    }

    /// <summary>
    /// <paramref name="count"/> messages to every client, from the first command to the last delivery every client was
    /// owed; null when it did not complete. Counts above <see cref="SuiteOptions.MaxOutstandingPerClient"/> go out as
    /// several <c>broadcast</c> commands, the next one sent as soon as the slowest client has room for it, so no server
    /// ever holds more than that many undelivered messages for a client (VizHtml's default send queue holds 1,024:
    /// a bigger burst would measure its slow-consumer guard, not its throughput).
    /// </summary>
    private Measured? MeasureBroadcast(LiveSession live, int count, int size)
    {
        var reactor = live.Reactor;
        var clients = reactor.OpenCount;
        var expected = (long)count * clients;
        var chunk = Math.Min(count, options.MaxOutstandingPerClient / 2);
        reactor.ResetCounters();
        var window = Window.Start(live);
        var issued = 0;
        var commands = 0;
        var stall = (long)(options.StallTimeout.TotalMilliseconds * 1e6);
        var lastProgress = Reactor.TimestampNs();
        long seen = 0;
        while (reactor.Delivered < expected)
        {
            // Room for another chunk once every client has had all but MaxOutstanding - chunk of what was issued.
            // The total is checked first: the minimum can only be reached once the total has.
            while (issued < count)
            {
                var floor = (long)issued + chunk - options.MaxOutstandingPerClient;
                if (issued > 0 && (reactor.Delivered < floor * clients || reactor.MinDeliveredSinceReset() < floor))
                {
                    break;
                }

                var next = Math.Min(chunk, count - issued);
                live.Server.Send($"broadcast {next} {size}");
                issued += next;
                commands++;
            }

            reactor.Poll(issued < count ? 1 : 50);
            if (reactor.Delivered != seen)
            {
                seen = reactor.Delivered;
                lastProgress = reactor.NowNs;
            }
            else if (Reactor.TimestampNs() - lastProgress > stall || live.Server.HasExited)
            {
                AwaitAnswers(live, commands, TimeSpan.FromSeconds(30));
                return null;
            }
        }

        var measured = window.Stop(reactor.LastDeliveryNs);
        AwaitAnswers(live, commands, TimeSpan.FromSeconds(60));

        // Let acknowledgements and stragglers settle before the next command.
        live.Pump(TimeSpan.FromMilliseconds(200));
        if (reactor.Delivered != expected)
        {
            Console.WriteLine($"   warning: counted {reactor.Delivered} deliveries, expected {expected}");
        }

        return measured;
    }

    private static void AwaitAnswers(LiveSession live, int commands, TimeSpan timeout)
    {
        for (var i = 0; i < commands; i++)
        {
            live.AwaitAnswer("sent", timeout);
        }
    }

    private void Storm(LiveSession live)
    {
        var scenario = StormScenario;
        var reactor = live.Reactor;
        var start = Reactor.TimestampNs();
        var opened = live.Connect(options.StormConnections, stopAfterFailures: options.StormConnections);
        var seconds = (Reactor.TimestampNs() - start) / 1e9;
        Console.WriteLine($"   {scenario}: {opened} of {options.StormConnections} in {seconds:0.000} s: {opened / seconds:N0} connects/s ({reactor.Failed} failed)");
        results.Add(scenario, live.Server.Spec.Name, "connects_per_s", "/s", "higher", opened / seconds);
        if (opened < options.StormConnections)
        {
            results.Note(scenario, live.Server.Spec.Name, $"{options.StormConnections - opened} connects failed ({reactor.LastFailure})");
        }

        live.CloseAll(scenario, results);
    }

    private void RunIdle(ServerSpec spec)
    {
        IdleMemory(spec, options.IdleConnections, IdleScenario, isMax: false);
        IdleMemory(spec, options.MaxConnections, IdleMaxScenario, isMax: true);
    }

    private void IdleMemory(ServerSpec spec, int target, string scenario, bool isMax)
    {
        using var server = ServerProcess.Start(spec, options.RepoRoot, options.LogDirectory);
        using var reactor = new Reactor(server.Port);
        var live = new LiveSession(server, reactor, options);
        live.Ask("gc", "gc", TimeSpan.FromSeconds(30));
        live.Pump(TimeSpan.FromMilliseconds(300));
        var before = server.ReadRssBytes();
        var opened = live.Connect(target, stopAfterFailures: 200);
        var serverCount = live.WaitForClients(opened, TimeSpan.FromSeconds(20));
        live.Ask("gc", "gc", TimeSpan.FromSeconds(60));
        live.Pump(TimeSpan.FromMilliseconds(500));
        var after = server.ReadRssBytes();
        var held = Math.Min(reactor.OpenCount, serverCount);
        var kbPerConnection = held == 0 ? double.NaN : (after - before) / 1024.0 / held;

        // The load generator's whole resident memory while it holds them (its pools are reused across servers, so a
        // before/after difference would say nothing after the first server).
        var ownMegabytes = Environment.WorkingSet / 1048576.0;
        Console.WriteLine($"   {scenario}: held {held} of {target} (server says {serverCount}), RSS {before / 1048576.0:0.0} → {after / 1048576.0:0.0} MiB: {kbPerConnection:0.00} KB/connection (load generator RSS {ownMegabytes:0} MiB){(reactor.LastFailure is null ? string.Empty : $"; last failure: {reactor.LastFailure}")}");
        results.Add(scenario, spec.Name, "kb_per_conn", "KB", "lower", kbPerConnection);
        results.Add(scenario, spec.Name, "loadgen_rss_mb", "MiB", "lower", ownMegabytes);
        if (isMax)
        {
            results.Add(scenario, spec.Name, "connections_held", "connections", "higher", held);
        }

        if (held < target)
        {
            results.Note(scenario, spec.Name, $"held {held} of {target} ({reactor.LastFailure ?? "no failure seen"})");
        }

        // Drop the sockets first so the server exits without a close handshake to thousands of clients.
        reactor.AbortAll();
    }

    private readonly record struct Measured(double Seconds, long Delivered, double ServerCpuUs, double LoadGenCpuUs)
    {
        public double WallUs => Seconds * 1e6;
    }

    /// <summary>Start of a measured window: wall clock, the server's CPU and the load generator's own CPU.</summary>
    private readonly record struct Window(LiveSession Live, long StartNs, CpuSample ServerCpu, TimeSpan OwnCpu)
    {
        public static Window Start(LiveSession live) =>
            new(live, Reactor.TimestampNs(), live.Server.ReadCpu(), Environment.CpuUsage.TotalTime);

        public Measured Stop(long endNs)
        {
            var ownCpu = Environment.CpuUsage.TotalTime - OwnCpu;
            var serverCpu = ProcessStats.CpuDeltaNs(ServerCpu, Live.Server.ReadCpu());
            return new Measured((endNs - StartNs) / 1e9, Live.Reactor.Delivered, serverCpu / 1e3, ownCpu.TotalMicroseconds);
        }
    }
}
