using System.Diagnostics;

namespace VizHtml.Micro;

/// <summary>The figures of one broadcast scenario over repeated runs.</summary>
/// <param name="CallerBytesPerBroadcast">Per run: the median over its bursts of the calling thread's bytes per broadcast.</param>
/// <param name="CallerMeanBytesPerBroadcast">Per run: all the calling thread's bytes over all its broadcasts.</param>
/// <param name="BurstCallerBytes">Every recorded burst's calling-thread bytes per broadcast, in order.</param>
internal sealed record ProbeResult(
    string Scenario,
    int Clients,
    string Protocol,
    double[] CallerBytesPerBroadcast,
    double[] CallerMeanBytesPerBroadcast,
    double[] BurstCallerBytes,
    double[] ProcessBytesPerDelivery,
    double[] NsPerBroadcast,
    double[] CpuNsPerBroadcast)
{
    /// <summary>The steady-state figure: the median burst. A cost paid on every broadcast moves it; a rare one-off does not.</summary>
    public double SteadyCallerBytes => Stats.Median(BurstCallerBytes);

    public int WarmupBursts { get; init; }

    /// <summary>What the calling thread allocated during the warm-up above its least burst, per client: queue growth.</summary>
    public double WarmupGrowthBytesPerClient { get; init; }
}

/// <summary>
/// Allocation figures of the broadcast path, measured outside BenchmarkDotNet so that each one means one thing:
/// <list type="bullet">
/// <item>bytes per broadcast on the calling thread: <c>GC.GetAllocatedBytesForCurrentThread()</c> around each burst of
/// SendAll calls, nothing else inside the window;</item>
/// <item>bytes per delivery for the whole process: <c>GC.GetTotalAllocatedBytes(precise: true)</c> across a run of about a
/// million deliveries, from a state where everything sent earlier was received to the same state again; this includes
/// the connections' write loops, Kestrel and the reading of the clients' acknowledgements (the clients themselves live
/// in another process and are not counted).</item>
/// </list>
/// The send rate is paced as in the benchmarks: every burst starts from empty send queues and stays under the queue bound.
/// The calling thread's figure is kept per burst: the median burst is the steady state, the mean also counts one-off
/// growth of per-client structures (a send queue or replay buffer reaching a depth it never had before). A warm-up runs
/// bursts until that growth has settled and says how much it was, per client.
/// </summary>
internal static class AllocationProbe
{
    private const int MinBurstsPerRun = 4;
    private const int MinWarmupBursts = 4;
    private const int MaxWarmupBursts = 60;
    private static readonly TimeSpan MaxWarmupTime = TimeSpan.FromSeconds(45);

    public static ProbeResult Run(int clients, bool v2, int runs, long deliveriesPerRun, TextWriter log, AllocationSampler? sampler = null)
    {
        var protocol = v2 ? "v2" : "v1";
        var scenario = $"micro-sendall-{protocol}-N{clients}";
        var setup = Stopwatch.StartNew();
        using var rig = BroadcastRig.Start(clients, v2);
        log.WriteLine($"{scenario}: {clients} clients connected in {setup.Elapsed.TotalSeconds:0.0} s");

        var payload = Payloads.Of(64);
        var burst = Bursts.Of(clients);
        var bursts = (int)Math.Max(MinBurstsPerRun, Math.Ceiling((double)deliveriesPerRun / ((long)burst * clients)));
        long broadcasts = 0;

        // Warm-up, not recorded: tiered JIT, pools, and the per-client queues growing to the depth a burst gives them.
        // It ends once three bursts in a row allocate no more on the calling thread than the least a burst has.
        var warmup = new List<double>();
        var least = double.MaxValue;
        var quiet = 0;
        sampler?.Start(Native.CurrentOsThreadId());
        var warmupTime = Stopwatch.StartNew();
        while (warmup.Count < MaxWarmupBursts && warmupTime.Elapsed < MaxWarmupTime && (warmup.Count < MinWarmupBursts || quiet < 3))
        {
            var measured = Burst(rig, payload, burst);
            broadcasts += burst;
            warmup.Add(measured.BytesPerBroadcast);
            quiet = measured.BytesPerBroadcast <= least + 0.5 ? quiet + 1 : 0;
            least = Math.Min(least, measured.BytesPerBroadcast);
        }

        var growth = warmup.Sum(b => b - least) * burst / clients;
        log.WriteLine($"{scenario} warm-up: {warmup.Count} bursts of {burst}; calling thread {least:0.0} B/broadcast at least, " +
            $"{growth:N0} B per client above that (queue growth){(quiet < 3 ? "; did not settle" : string.Empty)}");

        sampler?.Stop();
        sampler?.Print(log, $"{scenario} warm-up");

        var caller = new List<double>();
        var callerMean = new List<double>();
        var allBursts = new List<double>();
        var process = new List<double>();
        var time = new List<double>();
        var cpu = new List<double>();
        sampler?.Start(Native.CurrentOsThreadId());
        for (var run = 1; run <= runs; run++)
        {
            rig.WaitDrained();
            rig.WaitReceived(broadcasts * clients);
            rig.EnsureHealthy();
            var processBefore = GC.GetTotalAllocatedBytes(precise: true);
            long ticks = 0;
            long cpuNanoseconds = 0;
            var runBursts = new double[bursts];
            for (var b = 0; b < bursts; b++)
            {
                var measured = Burst(rig, payload, burst);
                runBursts[b] = measured.BytesPerBroadcast;
                ticks += measured.Ticks;
                cpuNanoseconds += measured.CpuNanoseconds;
            }

            var sent = (long)bursts * burst;
            broadcasts += sent;
            rig.WaitDrained();
            rig.WaitReceived(broadcasts * clients);
            var processBytes = GC.GetTotalAllocatedBytes(precise: true) - processBefore;
            rig.EnsureHealthy();

            caller.Add(Stats.Median(runBursts));
            callerMean.Add(runBursts.Average());
            allBursts.AddRange(runBursts);
            process.Add((double)processBytes / (sent * clients));
            time.Add(ticks * (1e9 / Stopwatch.Frequency) / sent);
            cpu.Add((double)cpuNanoseconds / sent);
            log.WriteLine($"{scenario} run {run}: {sent * clients:N0} deliveries; calling thread {caller[^1]:0.0} B/broadcast (median of {bursts} bursts; mean {callerMean[^1]:0.0}); process {process[^1]:0.00} B/delivery; {time[^1]:N0} ns/broadcast wall, {cpu[^1]:N0} ns CPU");
        }

        sampler?.Stop();
        return new ProbeResult(scenario, clients, protocol, [.. caller], [.. callerMean], [.. allBursts], [.. process], [.. time], [.. cpu])
        {
            WarmupBursts = warmup.Count,
            WarmupGrowthBytesPerClient = growth,
        };
    }

    /// <summary>One burst from empty send queues: what the calling thread allocated and spent per broadcast.</summary>
    private static (double BytesPerBroadcast, long Ticks, long CpuNanoseconds) Burst(BroadcastRig rig, string payload, int burst)
    {
        rig.WaitDrained();
        long queued = 0;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var cpuStarted = Native.ThreadCpuNanoseconds();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < burst; i++)
        {
            queued += rig.Server.SendAll(Payloads.EventName, payload);
        }

        var ticks = Stopwatch.GetTimestamp() - started;
        var cpu = Native.ThreadCpuNanoseconds() - cpuStarted;
        var bytes = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (queued != (long)burst * rig.Expected)
        {
            rig.EnsureHealthy();
            throw new InvalidOperationException($"{burst} broadcasts were queued {queued} times, expected {(long)burst * rig.Expected}");
        }

        return ((double)bytes / burst, ticks, cpu);
    }
}
