using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using VizHtml.Micro;

// Micro-benchmarks of VizHtml's send path (issue 5): serialize once, OutboundBatch, SendAll to N clients.
//   dotnet run -c Release --project bench/VizHtml.Micro -- [--quick] [--check | --trace-allocations] [--filter GLOB] [--no-probe]
// Default: every benchmark, then the allocation probe; writes bench/results/micro.json (BenchmarkDotNet's own files go
// to bench/results/micro-artifacts/). --quick: BenchmarkDotNet's short-run job and shorter probe runs, for development.
// --metrics-cost: only the interleaved comparison of metrics and tracing listened to against not (issue 13, MetricsCost.cs);
// writes bench/results/metrics/interleaved.json, which `VizHtml.LoadGen -- metrics` renders into docs/benchmarks.md.
// --check: only the probe at N = 10 and N = 1000; exits 1 if the calling thread's bytes per broadcast grow with N.
// --trace-allocations: only the probe at N = 10 and N = 1000, with the types allocated (sampled by the runtime's
// AllocationTick event) on the calling thread and on the others: where the bytes of the figures come from.
// The measured server runs on core 0 and the clients on core 1 (taskset), as in the rest of the suite.
switch (args.FirstOrDefault())
{
    case "--clients":
        return await ClientSwarm.RunAsync(
            int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture), args[3] == "v2");
    case "--probe-child":
        return ProbeChild(args);
    case "--metrics-cost-child":
        return MetricsCostChild(args);
    case "--idle-hold":
        return FrameLoop.Hold(args);
    case "--frame-loop":
        return FrameLoop.Run(args);
    case "--metrics-cost":
        return RunMetricsCost(args.Contains("--quick"));
}

var quick = args.Contains("--quick");
var check = args.Contains("--check");
var trace = args.Contains("--trace-allocations");
var probe = !args.Contains("--no-probe");
var filter = args.SkipWhile(a => a != "--filter").Skip(1).FirstOrDefault();
var unknown = args.Where((a, i) => a.StartsWith("--", StringComparison.Ordinal) && a is not ("--quick" or "--check" or "--trace-allocations" or "--no-probe" or "--filter")).ToArray();
if (unknown.Length > 0)
{
    Console.Error.WriteLine($"unknown option {unknown[0]}; usage: VizHtml.Micro [--quick] [--check | --trace-allocations] [--filter GLOB] [--no-probe]");
    return 2;
}

var root = RepositoryRoot();
var results = Path.Combine(root, "bench", "results");
var artifacts = Path.Combine(results, "micro-artifacts");
var callerFiles = Path.Combine(artifacts, "caller-alloc");
Environment.SetEnvironmentVariable(SelfProcess.ProgramVariable, typeof(SelfProcess).Assembly.Location);
Environment.SetEnvironmentVariable(CallerAllocatedColumn.FolderVariable, callerFiles);

// Calling-thread bytes per broadcast at N = 1000 may exceed those at N = 10 by at most this much: no growth with N.
const double GrowthAllowance = 64;

if (!SelfProcess.CanPin)
{
    Console.WriteLine("// taskset or a second core is missing: server and clients run unpinned");
}

if (trace)
{
    foreach (var v2 in new[] { false, true })
    {
        foreach (var clients in new[] { 10, 1000 })
        {
            RunProbe(clients, v2, runs: 3, deliveriesPerRun: 500_000, trace: true);
        }
    }

    return 0;
}

if (check)
{
    var figures = new List<ProbeResult>();
    foreach (var v2 in new[] { false, true })
    {
        foreach (var clients in new[] { 10, 1000 })
        {
            figures.Add(RunProbe(clients, v2, runs: 3, deliveriesPerRun: 500_000, trace: false));
        }
    }

    return ReportGrowth(figures) ? 0 : 1;
}

if (Directory.Exists(callerFiles))
{
    Directory.Delete(callerFiles, recursive: true);
}

var config = ManualConfig.Create(DefaultConfig.Instance)
    .WithArtifactsPath(artifacts)
    .AddColumn(new CallerAllocatedColumn())
    .WithOptions(ConfigOptions.JoinSummary);

// The CPU-only benchmarks get BenchmarkDotNet's default job; the broadcasts a fixed, shorter one: each of their
// iterations also waits for up to 128,000 deliveries to drain.
var cpuJob = quick ? Job.ShortRun : Job.Default;
var broadcastJob = quick ? Job.ShortRun : Job.Default.WithLaunchCount(1).WithWarmupCount(5).WithIterationCount(30);
if (SelfProcess.CanPin)
{
    cpuJob = cpuJob.WithAffinity(1 << SelfProcess.ServerCore);
    broadcastJob = broadcastJob.WithAffinity(1 << SelfProcess.ServerCore);
}

var runs = new List<BenchmarkRunInfo>();
foreach (var (type, job) in new (Type, Job)[]
{
    (typeof(SerializeBenchmarks), cpuJob),
    (typeof(OutboundBatchBenchmarks), cpuJob),
    (typeof(SendAllN10), broadcastJob),
    (typeof(SendAllN100), broadcastJob),
    (typeof(SendAllN1000), broadcastJob),
})
{
    var typeConfig = ManualConfig.Create(config).AddJob(job.WithId(quick ? "Quick" : type.Name.StartsWith("SendAll", StringComparison.Ordinal) ? "Broadcast" : "Default"));
    if (filter is not null)
    {
        typeConfig.AddFilter(new BenchmarkDotNet.Filters.GlobFilter([filter]));
    }

    runs.Add(BenchmarkConverter.TypeToBenchmarks(type, typeConfig));
}

var summaries = BenchmarkRunner.Run([.. runs]);
var reports = summaries.SelectMany(s => s.Reports).ToList();
var failed = summaries.SelectMany(s => s.BenchmarksCases).Where(c => !reports.Any(r => r.BenchmarkCase == c && r.Success)).ToList();

var probes = new List<ProbeResult>();
var probeFailures = 0;
if (probe)
{
    Console.WriteLine("// Allocation probe (calling thread per broadcast; whole process per delivery)");
    foreach (var v2 in new[] { false, true })
    {
        foreach (var clients in new[] { 10, 100, 1000 })
        {
            try
            {
                probes.Add(RunProbe(clients, v2, runs: 3, deliveriesPerRun: quick ? 200_000 : 1_000_000, trace: false));
            }
            catch (InvalidOperationException ex)
            {
                probeFailures++;
                Console.Error.WriteLine($"// probe failed: {ex.Message}");
            }
        }
    }
}

var rows = new List<ResultRow>();
foreach (var report in reports.Where(r => r.Success))
{
    var benchmark = report.BenchmarkCase;
    var scenario = ScenarioOf(benchmark);
    var iterations = report.AllMeasurements
        .Where(m => m.IterationMode == IterationMode.Workload && m.IterationStage == IterationStage.Result)
        .Select(m => m.GetAverageTime().Nanoseconds)
        .ToArray();
    var jobNote = $"BenchmarkDotNet {benchmark.Job.Id} job; values are its measured iterations, median its median";
    rows.Add(ResultRow.Lower(scenario, "ns_per_op", "ns", iterations, jobNote) with { Median = Math.Round(report.ResultStatistics!.Median, 3) });

    if (CallerAllocatedColumn.ScenarioOf(benchmark) is { } sendAll)
    {
        var inRun = CallerAllocatedColumn.Read(sendAll);
        if (probes.FirstOrDefault(p => p.Scenario == sendAll) is { } probed)
        {
            rows.AddRange(ProbeRows(probed, inRun));
        }
        else if (inRun is { Length: > 0 })
        {
            rows.Add(ResultRow.Lower(scenario, "alloc_bytes_per_op", "B", inRun,
                "calling thread per SendAll (GC.GetAllocatedBytesForCurrentThread), per BenchmarkDotNet iteration"));
        }
    }
    else if (report.GcStats.GetBytesAllocatedPerOperation(benchmark) is { } allocated)
    {
        rows.Add(ResultRow.Lower(scenario, "alloc_bytes_per_op", "B", [allocated], "BenchmarkDotNet Allocated (single-threaded benchmark)"));
    }
}

// A probe whose benchmark was filtered out still reports its figures.
foreach (var probed in probes.Where(p => !rows.Any(r => r.Scenario == p.Scenario)))
{
    rows.AddRange(ProbeRows(probed, inRun: null));
}

Directory.CreateDirectory(results);
var output = Path.Combine(results, "micro.json");
File.WriteAllText(output, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }) + "\n");
Console.WriteLine($"// Wrote {rows.Count} rows to {output}");

var grows = probes.Count > 0 && !ReportGrowth(probes);
if (failed.Count > 0)
{
    Console.Error.WriteLine($"// {failed.Count} benchmark(s) failed: {string.Join(", ", failed.Select(c => c.DisplayInfo))}; see the log in {artifacts}");
}

if (probeFailures > 0)
{
    Console.Error.WriteLine($"// {probeFailures} probe run(s) failed (see above)");
}

return grows || failed.Count > 0 || probeFailures > 0 ? 1 : 0;

// The interleaved metrics-cost comparison: each scenario in a child process on the server core; rows for the metrics section.
static int RunMetricsCost(bool quick)
{
    var folder = Path.Combine(RepositoryRoot(), "bench", "results", "metrics");
    Directory.CreateDirectory(folder);
    Environment.SetEnvironmentVariable(SelfProcess.ProgramVariable, typeof(SelfProcess).Assembly.Location);
    var rounds = int.TryParse(Environment.GetEnvironmentVariable("METRICS_COST_ROUNDS"), out var r) ? r : quick ? 3 : 36;
    var deliveries = long.TryParse(Environment.GetEnvironmentVariable("METRICS_COST_DELIVERIES"), out var d) ? d : quick ? 100_000 : 600_000;
    var rows = new List<ResultRow>();
    var started = DateTime.UtcNow;
    var only = Environment.GetEnvironmentVariable("METRICS_COST_ONLY");
    foreach (var (clients, size, protocol) in new[] { (100, 64, "memory"), (1000, 64, "memory"), (1000, 1024, "memory"), (100, 64, "v2"), (100, 1024, "v2"), (1000, 64, "v2"), (1000, 1024, "v2") })
    {
        // METRICS_COST_ONLY=v2 or =memory-1000x64,v2-100x64: rerun those and keep the other rows of the file.
        if (only is not null && !only.Split(',').Any(o => o == protocol || o == $"{protocol}-{clients}x{size}"))
        {
            continue;
        }

        var output = Path.Combine(Path.GetTempPath(), $"vizhtml-micro-metrics-{Environment.ProcessId}-{protocol}-{clients}x{size}.json");
        var start = SelfProcess.StartInfo(SelfProcess.ServerCore, "--metrics-cost-child", clients.ToString(CultureInfo.InvariantCulture),
            size.ToString(CultureInfo.InvariantCulture), protocol, rounds.ToString(CultureInfo.InvariantCulture), deliveries.ToString(CultureInfo.InvariantCulture), output);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        process.WaitForExit();
        if (process.ExitCode != 0 || !File.Exists(output))
        {
            Console.Error.WriteLine($"// the metrics-cost comparison at {clients} clients, {size} B failed (exit code {process.ExitCode})");
            return 1;
        }

        var result = JsonSerializer.Deserialize<MetricsCostResult>(File.ReadAllText(output))!;
        File.Delete(output);
        var note = $"{result.Ratios.Length} rounds, one block each way per round ({result.DeliveriesPerBlock:N0} deliveries), alternating order, one server process; " +
            "values are per round, server process CPU (CLOCK_PROCESS_CPUTIME_ID) per delivery";
        rows.Add(ResultRow.Lower(result.Scenario, "cpu_us_per_delivery", "µs", result.UnlistenedNs.Select(n => n / 1000).ToArray(), note));
        rows.Add(ResultRow.Lower(result.Scenario, "cpu_us_per_delivery", "µs", result.ListenedNs.Select(n => n / 1000).ToArray(), note) with { Server = "vizhtml-metrics" });
        rows.Add(ResultRow.Lower(result.Scenario, "cpu_ratio_listened", "×", result.Ratios, "per round: listened ÷ unlistened CPU per delivery, the two blocks back to back") with { Server = "vizhtml-metrics" });
        var ratios = result.Ratios;
        Console.WriteLine($"{result.Scenario}: listened ÷ unlistened, geometric mean of {ratios.Length} rounds {Math.Exp(ratios.Average(Math.Log)):0.000} (median {Stats.Median(ratios):0.000}, " +
            $"min {ratios.Min():0.000}, max {ratios.Max():0.000}); unlistened {Stats.Median(result.UnlistenedNs):0.0} ns, listened {Stats.Median(result.ListenedNs):0.0} ns per delivery (medians)");
    }

    var path = Path.Combine(folder, "interleaved.json");
    if (only is not null && File.Exists(path))
    {
        var rerun = rows.Select(row => row.Scenario).ToHashSet();
        rows.InsertRange(0, (JsonSerializer.Deserialize<List<ResultRow>>(File.ReadAllText(path)) ?? []).Where(row => !rerun.Contains(row.Scenario)));
    }

    File.WriteAllText(path, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    File.WriteAllText(Path.Combine(folder, "interleaved.meta.json"), JsonSerializer.Serialize(new
    {
        command = (only is null ? string.Empty : $"METRICS_COST_ONLY={only} ") + "dotnet run -c Release --project bench/VizHtml.Micro -- --metrics-cost" + (quick ? " --quick" : string.Empty)
            + (only is null ? string.Empty : " (the other scenarios' rows are from an earlier run)"),
        started_utc = started,
        finished_utc = DateTime.UtcNow,
        quick,
    }) + "\n");
    Console.WriteLine($"// Wrote {rows.Count} rows to {path}");
    return 0;
}

// --metrics-cost-child CLIENTS SIZE v1|v2|memory ROUNDS DELIVERIES OUTPUT (memory: InMemoryBroadcast, one broadcast at a time, 5/6 of the deliveries at 1,000 clients, 1/6 below): one scenario of the comparison, in the process that is measured.
static int MetricsCostChild(string[] args)
{
    try
    {
        var (clients, size) = (int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture));
        var (rounds, deliveries) = (int.Parse(args[4], CultureInfo.InvariantCulture), long.Parse(args[5], CultureInfo.InvariantCulture));
        var result = args[3] == "memory"
            ? MetricsCost.RunInMemory(clients, size, rounds, clients >= 1000 ? deliveries * 5 / 6 : deliveries / 6, Console.Out)
            : MetricsCost.Run(clients, size, args[3] == "v2", rounds, deliveries, Console.Out);
        File.WriteAllText(args[6], JsonSerializer.Serialize(result));
        return 0;
    }
    catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
    {
        Console.Error.WriteLine($"// {ex.Message}");
        return 1;
    }
}

// Runs the allocation probe in a child process on the server core and reads back its figures.
static ProbeResult RunProbe(int clients, bool v2, int runs, long deliveriesPerRun, bool trace)
{
    var output = Path.Combine(Path.GetTempPath(), $"vizhtml-micro-probe-{Environment.ProcessId}-{clients}-{(v2 ? "v2" : "v1")}.json");
    var start = SelfProcess.StartInfo(
        SelfProcess.ServerCore,
        "--probe-child",
        clients.ToString(CultureInfo.InvariantCulture),
        v2 ? "v2" : "v1",
        runs.ToString(CultureInfo.InvariantCulture),
        deliveriesPerRun.ToString(CultureInfo.InvariantCulture),
        output,
        trace ? "trace" : "no-trace");
    using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
    process.WaitForExit();
    try
    {
        if (process.ExitCode != 0 || !File.Exists(output))
        {
            throw new InvalidOperationException($"the probe of {clients} {(v2 ? "v2" : "v1")} clients failed (exit code {process.ExitCode})");
        }

        return JsonSerializer.Deserialize<ProbeResult>(File.ReadAllText(output))!;
    }
    finally
    {
        File.Delete(output);
    }
}

// --probe-child CLIENTS v1|v2 RUNS DELIVERIES OUTPUT trace|no-trace: the probe itself, in the process that is measured.
static int ProbeChild(string[] args)
{
    var clients = int.Parse(args[1], CultureInfo.InvariantCulture);
    var v2 = args[2] == "v2";
    var runs = int.Parse(args[3], CultureInfo.InvariantCulture);
    var deliveries = long.Parse(args[4], CultureInfo.InvariantCulture);
    using var sampler = args[6] == "trace" ? new AllocationSampler() : null;
    try
    {
        var result = AllocationProbe.Run(clients, v2, runs, deliveries, Console.Out, sampler);
        File.WriteAllText(args[5], JsonSerializer.Serialize(result));
        sampler?.Print(Console.Out, $"{result.Scenario} recorded runs");

        return 0;
    }
    catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
    {
        Console.Error.WriteLine($"// {ex.Message}");
        return 1;
    }
}

static string ScenarioOf(BenchmarkDotNet.Running.BenchmarkCase benchmark)
{
    if (CallerAllocatedColumn.ScenarioOf(benchmark) is { } sendAll)
    {
        return sendAll;
    }

    return benchmark.Descriptor.Type == typeof(SerializeBenchmarks)
        ? $"micro-serialize-{SizeName((int)benchmark.Parameters[nameof(SerializeBenchmarks.Size)])}"
        : $"micro-outboundbatch-{OutboundBatchBenchmarks.Messages}x64B";
}

static IEnumerable<ResultRow> ProbeRows(ProbeResult probed, double[]? inRun)
{
    var inRunNote = inRun is { Length: > 0 } ? $"; inside the BenchmarkDotNet run (median iteration): {Stats.Median(inRun):0.0} B" : string.Empty;
    yield return ResultRow.Lower(probed.Scenario, "alloc_bytes_per_op", "B", probed.CallerBytesPerBroadcast,
        "calling thread per SendAll (GC.GetAllocatedBytesForCurrentThread), median burst of each probe run; mean per run including " +
        $"one-off growth of per-client queues: {Join(probed.CallerMeanBytesPerBroadcast, "0.0")} B; the warm-up before ({probed.WarmupBursts} bursts) " +
        $"allocated {probed.WarmupGrowthBytesPerClient:N0} B per client of such growth{inRunNote}");
    yield return ResultRow.Lower(probed.Scenario, "alloc_bytes_per_delivery", "B", probed.ProcessBytesPerDelivery,
        "whole server process (GC.GetTotalAllocatedBytes(true)) per delivery over a run of ~1M deliveries, " +
        "acknowledgement reading included; the clients are in another process");
    yield return ResultRow.Lower(probed.Scenario, "cpu_ns_per_op", "ns", probed.CpuNsPerBroadcast,
        "CPU time of the calling thread per SendAll (CLOCK_THREAD_CPUTIME_ID), probe runs; ns_per_op is wall time, " +
        "which includes being preempted by the connections' write loops on this 2-core machine");
}

static string SizeName(int bytes) => bytes % 1024 == 0 ? $"{bytes / 1024}KB" : $"{bytes}B";

// Prints the calling thread's bytes per broadcast by N and says whether they grow with N (false if they do).
static bool ReportGrowth(IReadOnlyList<ProbeResult> figures)
{
    Console.WriteLine();
    Console.WriteLine("| scenario | calling thread B/broadcast: median burst (bursts above it) | mean per run | warm-up: bursts, growth B/client | process B/delivery per run | calling thread ns/broadcast: wall, CPU |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|");
    foreach (var f in figures)
    {
        var steady = f.SteadyCallerBytes;
        var above = f.BurstCallerBytes.Count(b => b > steady + 0.5);
        Console.WriteLine($"| {f.Scenario} | {steady:0.0} ({above} of {f.BurstCallerBytes.Length}) | {Join(f.CallerMeanBytesPerBroadcast, "0.0")} | {f.WarmupBursts}, {f.WarmupGrowthBytesPerClient:N0} | {Join(f.ProcessBytesPerDelivery, "0.00")} | {Stats.Median(f.NsPerBroadcast):N0}, {Stats.Median(f.CpuNsPerBroadcast):N0} |");
    }

    var ok = true;
    foreach (var protocol in figures.Select(f => f.Protocol).Distinct())
    {
        var few = figures.Where(f => f.Protocol == protocol).MinBy(f => f.Clients)!;
        var many = figures.Where(f => f.Protocol == protocol).MaxBy(f => f.Clients)!;
        var growth = many.SteadyCallerBytes - few.SteadyCallerBytes;
        var pass = growth <= GrowthAllowance;
        ok &= pass;
        Console.WriteLine($"{(pass ? "PASS" : "FAIL")} {protocol}: the calling thread allocates {many.SteadyCallerBytes:0.0} B per broadcast at N={many.Clients} vs {few.SteadyCallerBytes:0.0} B at N={few.Clients} (median burst; growth {growth:0.0} B, allowed {GrowthAllowance} B)");
    }

    return ok;
}

static string Join(IEnumerable<double> values, string format) => string.Join(", ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));

static string RepositoryRoot()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "Directory.Packages.props")) && Directory.Exists(Path.Combine(directory.FullName, "bench")))
        {
            return directory.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}
