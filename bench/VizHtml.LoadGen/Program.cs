using System.Diagnostics;
using System.Globalization;
using VizHtml.LoadGen.Report;
using VizHtml.LoadGen.Results;
using VizHtml.LoadGen.Scenarios;
using VizHtml.LoadGen.Servers;

// VizHtml's load generator and suite driver. It starts each server under test pinned to core 0, pins itself to
// core 1, drives the servers over their stdin/stdout and measures them through raw WebSocket clients.
//   dotnet run -c Release --project bench/VizHtml.LoadGen -- [--servers vizhtml,signalr,...] [--scenarios echo,hostapp,sustained,broadcast,storm,idle] [--runs 3] [--quick] [--results bench/results]
//   dotnet run -c Release --project bench/VizHtml.LoadGen -- report [--command "bench/run.sh"]
//   dotnet run -c Release --project bench/VizHtml.LoadGen -- standalone [--runs 3] [--quick] [--note TEXT] [--report-only] [--write docs/benchmarks.md]
//   dotnet run -c Release --project bench/VizHtml.LoadGen -- metrics [--runs 3] [--quick] [--note TEXT] [--report-only] [--write docs/benchmarks.md]
// The last is issue 12's comparison: vizhtml (Kestrel host), vizhtml-standalone, vizhtml-mono and the kestrel baseline,
// broadcast and idle memory, into bench/results/standalone/ and the "Standalone host (issue 12)" section only.
// metrics is issue 13's: vizhtml with and without listeners on its meter and activity source, broadcast only, into
// bench/results/metrics/ and the "Metrics and tracing cost (issue 13)" section only.
var repoRoot = FindRepoRoot();
if (args.FirstOrDefault() == "report")
{
    var command = Option("--command") ?? "dotnet run -c Release --project bench/VizHtml.LoadGen -- report";
    ReportWriter.Write(repoRoot, command);
    return 0;
}

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("usage: VizHtml.LoadGen [--servers a,b] [--scenarios echo,hostapp,sustained,broadcast,storm,idle] [--runs N] [--quick] [--results FOLDER]\n       VizHtml.LoadGen report [--command TEXT]\n       VizHtml.LoadGen standalone [--runs N] [--quick] [--note TEXT] [--report-only] [--write FILE]\n       VizHtml.LoadGen metrics [--runs N] [--quick] [--note TEXT] [--report-only] [--write FILE]\n       VizHtml.LoadGen perframe [--runs N] [--quick] [--note TEXT] [--report-only] [--write FILE]");
    return 0;
}

var quick = args.Contains("--quick");
if (args.FirstOrDefault() == "standalone")
{
    return RunSection(StandaloneSection.Servers, StandaloneSection.Scenarios, StandaloneSection.ResultsFolder, StandaloneSection.Write);
}

if (args.FirstOrDefault() == "perframe")
{
    return RunSection(PerFrameSection.Servers, PerFrameSection.Scenarios, PerFrameSection.ResultsFolder, PerFrameSection.Write);
}

if (args.FirstOrDefault() == "metrics")
{
    return RunSection(MetricsSection.Servers, MetricsSection.Scenarios, MetricsSection.ResultsFolder, MetricsSection.Write);
}

var servers = List("--servers", ServerCatalog.Default);
var scenarios = List("--scenarios", SuiteOptions.AllScenarios);
var unknown = servers.Where(s => ServerCatalog.Find(s) is null).Concat(scenarios.Where(s => !SuiteOptions.AllScenarios.Contains(s))).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown server or scenario: {string.Join(", ", unknown)}");
    return 2;
}

var commandLine = "dotnet run -c Release --project bench/VizHtml.LoadGen --" + (args.Length == 0 ? string.Empty : " " + string.Join(' ', args));
return RunSuite(
    new SuiteOptions
    {
        RepoRoot = repoRoot,
        Servers = servers,
        Scenarios = scenarios,
        Runs = int.Parse(Option("--runs") ?? (quick ? "1" : "3"), CultureInfo.InvariantCulture),
        Quick = quick,
        ResultsFolder = Option("--results") ?? "bench/results",
    },
    commandLine);

// Runs the suite against the servers that can be prepared, then writes the results file and its meta file.
static int RunSuite(SuiteOptions options, string commandLine)
{
    // Core 0 is the server's, core 1 ours: -a moves every thread that exists now; threads made later inherit it.
    Run("taskset", $"-a -cp 1 {Environment.ProcessId}");
    if (Stopwatch.Frequency != 1_000_000_000)
    {
        Console.WriteLine($"note: Stopwatch.Frequency is {Stopwatch.Frequency}, not 1e9; timestamps are converted to ns");
    }

    var available = Prepare(options).ToList();
    if (available.Count == 0)
    {
        Console.Error.WriteLine("no server could be prepared");
        return 1;
    }

    var started = DateTime.UtcNow;
    var results = new ResultCollector();
    var prepared = new SuiteOptions
    {
        RepoRoot = options.RepoRoot, Servers = available, Scenarios = options.Scenarios, Runs = options.Runs, Quick = options.Quick, ResultsFolder = options.ResultsFolder,
    };
    new Suite(prepared, results).Run();
    results.Write(options.ResultsPath);
    RunInfo.Collect(commandLine, started, options.Runs, options.Quick, options.RepoRoot).Write(options.MetaPath);
    Console.WriteLine($"wrote {Path.GetRelativePath(options.RepoRoot, options.ResultsPath)} ({(DateTime.UtcNow - started).TotalMinutes:0.0} min)");
    return 0;
}

// Builds the .NET servers (every time: a server built before a change to VizHtml would measure the old code, as the
// standalone section once did, a Kestrel-only build under the name vizhtml-standalone) and installs the Node servers'
// packages if needed; yields the servers that can start.
static IEnumerable<string> Prepare(SuiteOptions options)
{
    var built = new Dictionary<string, bool>(StringComparer.Ordinal);
    foreach (var name in options.Servers)
    {
        var spec = ServerCatalog.Find(name)!;
        if (spec.Project is not null)
        {
            if (!built.TryGetValue(spec.Project, out var ok))
            {
                Console.WriteLine($"building {spec.Project}");
                ok = File.Exists(Path.Combine(options.RepoRoot, spec.Project)) && Run("dotnet", $"build -c Release {spec.Project} -v q -nologo", options.RepoRoot);
                built[spec.Project] = ok;
            }

            if (!ok || !File.Exists(Path.Combine(options.RepoRoot, spec.Arguments[0])))
            {
                Console.WriteLine($"skipping {name}: {spec.Project} does not build");
                continue;
            }
        }

        if (spec.Command == "node" || spec.Command.StartsWith(ServerCatalog.NodeFolder, StringComparison.Ordinal))
        {
            var folder = Path.Combine(options.RepoRoot, ServerCatalog.NodeFolder);
            if (!Directory.Exists(Path.Combine(folder, "node_modules")) && File.Exists(Path.Combine(folder, "package.json")))
            {
                Console.WriteLine($"installing {ServerCatalog.NodeFolder} packages");
                Run("npm", "ci --no-audit --no-fund", folder);
            }

            var script = spec.Arguments.Last();
            var command = spec.Command == "node" ? null : Path.Combine(options.RepoRoot, spec.Command);
            if (!File.Exists(Path.Combine(options.RepoRoot, script)) || (command is not null && !File.Exists(command)))
            {
                Console.WriteLine($"skipping {name}: {script} or its runtime is missing");
                continue;
            }
        }

        yield return name;
    }
}

static bool Run(string file, string arguments, string? workingDirectory = null)
{
    try
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory, RedirectStandardOutput = true });
        if (process is null)
        {
            return false;
        }

        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return false;
    }
}

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "VizHtml.slnx")))
        {
            return dir.FullName;
        }
    }

    throw new InvalidOperationException("run from inside the VizHtml repository");
}

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

List<string> List(string name, IEnumerable<string> fallback) =>
    Option(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList() ?? fallback.ToList();

// A comparison with a section of its own (standalone, metrics, perframe): runs its servers and scenarios into its own results
// folder (unless --report-only), then rewrites only its section of --write (docs/benchmarks.md).
int RunSection(IReadOnlyList<string> servers, IReadOnlyList<string> scenarios, string resultsFolder, Action<string, string, string?> write)
{
    var target = Path.Combine(repoRoot, Option("--write") ?? "docs/benchmarks.md");
    if (!args.Contains("--report-only"))
    {
        var runs = int.Parse(Option("--runs") ?? (quick ? "1" : "3"), CultureInfo.InvariantCulture);
        var status = RunSuite(
            new SuiteOptions { RepoRoot = repoRoot, Servers = servers, Scenarios = scenarios, Runs = runs, Quick = quick, ResultsFolder = resultsFolder },
            "dotnet run -c Release --project bench/VizHtml.LoadGen -- " + string.Join(' ', args.Where(a => a != "--note" && a != Option("--note"))));
        if (status != 0)
        {
            return status;
        }
    }

    write(repoRoot, target, Option("--note"));
    return 0;
}
