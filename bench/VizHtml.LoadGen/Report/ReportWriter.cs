using System.Globalization;
using System.Text;
using VizHtml.LoadGen.Results;
using VizHtml.LoadGen.Servers;

namespace VizHtml.LoadGen.Report;

/// <summary>
/// Writes docs/benchmarks.md and docs/benchmarks.png from every bench/results/*.json: the targets of issue 5 with
/// met or missed and by how much, one table of medians per scenario with VizHtml's ratio to every peer, the
/// hand-written explanations of docs/benchmarks-notes.md verbatim, and the slow-consumer section of VizHtml.Bench kept
/// as it was.
/// </summary>
internal static class ReportWriter
{
    private const string NotesFile = "docs/benchmarks-notes.md";

    /// <summary>Sections other commands write into docs/benchmarks.md (each replaces its own); the report keeps them as they are.</summary>
    private static readonly string[] KeptSections =
    [
        StandaloneSection.Heading,
        PerFrameSection.Heading,
        MetricsSection.Heading,
        "## One slow client never hurts the others",
        "## Broadcast with clients away",
        "## Binary payloads against base64 JSON (issue 14)",
    ];
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    internal static readonly (string Prefix, string Title, string About, string[] Metrics)[] Families =
    [
        ("broadcast-", "Broadcast fan-out",
            "`broadcast <count> <size>` to N connected clients; the window runs from the first command to the last delivery every client was owed. " +
            "The count per client is chosen from a warm-up so the window lasts about the same for every server; it goes out in commands of at most 500, " +
            "the next sent as soon as the slowest client has room, so no server holds more than 1,000 undelivered messages per client " +
            "(VizHtml's default send queue holds 1,024; a bigger burst would measure its slow-consumer guard instead of its throughput). " +
            "The load generator's own CPU is shown so a row where it, not the server, was the limit can be told († = its core was ≥ 90 % busy: deliveries/s is then a floor).",
            ["deliveries_per_s", "cpu_us_per_delivery", "loadgen_cpu_us_per_delivery", "loadgen_cpu_pct", "messages_per_client"]),
        ("hostapp-", "Host-app pattern",
            "`stream 60 <seconds> 1024`: one 1 KB state message per tick at 60 Hz to 200 clients, as a simulation that embeds the server would send it. " +
            "Server CPU is its share of one core over the whole stream; latency is receive time minus the timestamp the server put in the payload (same monotonic clock).",
            ["server_cpu_pct", "latency_p50_us", "latency_p99_us", "cpu_us_per_delivery", "deliveries_per_s"]),
        ("fewtablets-", "A few tablets",
            "`stream 90 <seconds> 200` to 5 clients: the original toolkit's own use, a frame loop that sends the view to a few tablets every frame. " +
            "Besides server CPU and latency, the .NET servers report what each broadcast call cost the thread that made it, the payload already made: " +
            "wall time from the call to its return (`call_*`; with the server on one core this includes the writers the call woke, when they run before it returns) " +
            "and the thread's own CPU time (`call_cpu_*`): the part of a frame's budget the send takes. " +
            "`floor_*` is the same two clocks around five dictionary writes in the same moment of each tick: what this machine charges for any little work right after the thread slept.",
            ["call_cpu_p50_us", "call_cpu_p99_us", "call_cpu_max_us", "call_p50_us", "call_p99_us", "call_max_us", "floor_p99_us", "floor_cpu_p50_us", "floor_cpu_p99_us", "cpu_us_per_delivery", "server_cpu_pct", "latency_p50_us", "latency_p99_us"]),
        ("sustained-", "Sustained broadcast",
            "`stream 100 <seconds> 64` to 1,000 clients: 100 k deliveries/s paced by the server's own timer, so servers are compared at the same load rather than flat out. " +
            "A server that cannot keep up shows it in latency and in deliveries/s below 100 k.",
            ["server_cpu_pct", "cpu_us_per_delivery", "deliveries_per_s", "latency_p50_us", "latency_p99_us"]),
        ("echo-", "Echo round trip",
            "Each client sends a 64 B echo, waits for it to come back, sends the next (closed loop), after a warm-up. Round trip = time the answer was read minus time the request was sent.",
            ["rtt_p50_us", "rtt_p99_us", "rtt_p999_us", "round_trips_per_s", "cpu_us_per_round_trip", "loadgen_cpu_us_per_round_trip"]),
        ("idle-", "Idle memory per connection",
            "A fresh server process: `gc`, resident memory (VmRSS), then N connections open and idle (protocol handshake done), `gc` again, resident memory again; the difference divided by N. " +
            "`idle-max` tries 19,000 connections (the open-file limit of a process here is 20,000) and shows how many the server held.",
            ["kb_per_conn", "connections_held", "loadgen_rss_mb"]),
        ("storm-", "Connection storm",
            "Open connections as fast as possible, 64 in flight, each counted when its protocol handshake is done (TCP connect, HTTP upgrade, then the protocol's hello where it has one).",
            ["connects_per_s"]),
    ];

    private static readonly Dictionary<string, string> MetricNames = new()
    {
        ["deliveries_per_s"] = "deliveries/s",
        ["cpu_us_per_delivery"] = "server CPU per delivery (µs)",
        ["loadgen_cpu_us_per_delivery"] = "load generator CPU per delivery (µs)",
        ["loadgen_cpu_pct"] = "load generator core busy (%)",
        ["messages_per_client"] = "messages per client (chosen from the warm-up)",
        ["server_cpu_pct"] = "server CPU (% of one core)",
        ["latency_p50_us"] = "delivery latency p50 (µs)",
        ["latency_p99_us"] = "delivery latency p99 (µs)",
        ["rtt_p50_us"] = "round trip p50 (µs)",
        ["rtt_p99_us"] = "round trip p99 (µs)",
        ["rtt_p999_us"] = "round trip p99.9 (µs)",
        ["round_trips_per_s"] = "round trips/s",
        ["cpu_us_per_round_trip"] = "server CPU per round trip (µs)",
        ["loadgen_cpu_us_per_round_trip"] = "load generator CPU per round trip (µs)",
        ["kb_per_conn"] = "KB per connection",
        ["connections_held"] = "connections held",
        ["loadgen_rss_mb"] = "load generator RSS (MiB)",
        ["connects_per_s"] = "connects/s",
    };

    public static void Write(string repoRoot, string command)
    {
        var results = ResultSet.Load(Path.Combine(repoRoot, "bench/results"));
        var info = RunInfo.Read(Path.Combine(repoRoot, "bench/results/loadgen.meta.json"));
        var docs = Path.Combine(repoRoot, "docs");
        var markdownPath = Path.Combine(docs, "benchmarks.md");
        var existing = File.Exists(markdownPath) ? File.ReadAllText(markdownPath) : string.Empty;
        var servers = Servers(results);

        var md = new StringBuilder();
        md.AppendLine("# Benchmarks").AppendLine();
        md.AppendLine($"Generated from `bench/results/*.json` by `dotnet run -c Release --project bench/VizHtml.LoadGen -- report`; do not edit by hand. " +
            $"Explanations of misses are written in `{NotesFile}` and included below as they are.").AppendLine();
        md.AppendLine($"- Command: `{command}`");
        if (info is not null)
        {
            md.AppendLine($"- Load generator run: `{info.Command}`, {info.StartedUtc:yyyy-MM-dd HH:mm}–{info.FinishedUtc:HH:mm} UTC, {info.Runs} run{(info.Runs == 1 ? string.Empty : "s")}, tables show medians.");
            if (info.Quick)
            {
                md.AppendLine("- **Quick mode** (1 run, small counts, short windows): for development, not for conclusions.");
            }

            md.AppendLine($"- Machine: {info.Cores} cores ({info.Cpu}), Linux {info.Kernel}, {info.DotNet}, Node {info.Node}, Bun {info.Bun}.");
        }

        md.AppendLine("- Each server runs as its own process pinned to core 0 (`taskset -c 0`); the load generator (raw sockets, one epoll thread, ");
        md.AppendLine("  `bench/VizHtml.LoadGen`) runs on core 1. Server CPU comes from /proc (per-thread schedstat, cross-checked with utime+stime), ");
        md.AppendLine("  the load generator's from its own process times. The servers and their settings are in `bench/servers/`.");
        md.AppendLine("- Ratios are VizHtml ÷ peer from the same run: below 1 is ahead for lower-is-better rows (CPU, latency, memory), above 1 for the others.");
        md.AppendLine("  `vizhtml` is VizHtml on its default host (Kestrel) on .NET 10; `vizhtml-standalone` is the same program on VizHtml's own HTTP/1.1 server, ");
        md.AppendLine("  `vizhtml-mono` VizHtml's .NET Standard build (so the standalone server) under Mono. Their columns `… ÷ vizhtml` compare them with the Kestrel host.");
        if (results.Skipped.Count > 0)
        {
            md.AppendLine($"- Files not read: {string.Join(", ", results.Skipped)}.");
        }

        md.AppendLine();
        var problems = results.Rows.Where(r => r.Row.Scenario == "errors" && r.Row.Note is not null).ToList();
        if (problems.Count > 0)
        {
            md.AppendLine("**Problems during the run:**").AppendLine();
            foreach (var (_, row) in problems)
            {
                md.AppendLine($"- {row.Server}: {row.Note}");
            }

            md.AppendLine();
        }

        WriteTargets(md, results);
        WriteNotes(md, Path.Combine(repoRoot, NotesFile));

        var loadGenRows = results.Rows.Where(r => r.File == "loadgen.json").Select(r => r.Row).ToList();
        foreach (var (prefix, title, about, metrics) in Families)
        {
            var scenarios = loadGenRows.Select(r => r.Scenario).Where(s => s.StartsWith(prefix, StringComparison.Ordinal)).Distinct().OrderBy(ScenarioOrder).ToList();
            if (scenarios.Count == 0)
            {
                continue;
            }

            md.AppendLine($"## {title}").AppendLine().AppendLine(about).AppendLine();
            foreach (var scenario in scenarios)
            {
                WriteTable(md, scenario, loadGenRows.Where(r => r.Scenario == scenario).ToList(), servers, metrics);
            }
        }

        // Everything the other programs measured (browser, micro-benchmarks), as they named it.
        foreach (var group in results.Rows.Where(r => r.File != "loadgen.json").GroupBy(r => r.File))
        {
            md.AppendLine($"## From `bench/results/{group.Key}`").AppendLine();
            foreach (var scenario in group.Select(r => r.Row).GroupBy(r => r.Scenario))
            {
                var rows = scenario.ToList();
                WriteTable(md, scenario.Key, rows, Servers(rows), rows.Select(r => r.Metric).Distinct().ToArray());
            }
        }

        WriteAllRuns(md, results);

        foreach (var heading in KeptSections)
        {
            if (Section(existing, heading) is { } kept)
            {
                md.AppendLine(kept.TrimEnd()).AppendLine();
            }
        }

        Directory.CreateDirectory(docs);
        File.WriteAllText(markdownPath, md.ToString().TrimEnd() + "\n");
        var chartPath = Path.Combine(docs, "benchmarks.png");
        if (loadGenRows.Count > 0)
        {
            // The chart compares the servers under test only (not the browser or micro-benchmark rows).
            Chart.Write(chartPath, results, servers.Where(s => ServerCatalog.Find(s) is not null).ToList());
        }

        Console.WriteLine($"wrote docs/benchmarks.md{(loadGenRows.Count > 0 ? " and docs/benchmarks.png" : string.Empty)} from {results.Rows.Count} rows");
    }

    private static void WriteTargets(StringBuilder md, ResultSet results)
    {
        md.AppendLine("## Targets (issues 5, 12 and 14)").AppendLine();
        WriteTargetTable(md, [.. Targets.Check(results), .. Targets.CheckStandalone(results)]);
        md.AppendLine("![VizHtml and its peers: broadcast CPU and rate, echo latency, idle memory](benchmarks.png)").AppendLine();
    }

    /// <summary>A count of met and missed, then one line per target.</summary>
    internal static void WriteTargetTable(StringBuilder md, IReadOnlyList<TargetCheck> checks)
    {
        md.AppendLine($"{checks.Count(c => c.Met == true)} met, {checks.Count(c => c.Met == false)} missed, {checks.Count(c => c.Met is null)} not measured.").AppendLine();
        md.AppendLine("| target | measured | bar | | margin |");
        md.AppendLine("|---|---:|---:|---|---|");
        foreach (var check in checks)
        {
            var verdict = check.Met switch { true => "met", false => "**missed**", null => "not measured" };
            md.AppendLine($"| {check.Target} | {check.Measured} | {check.Bar} | {verdict} | {check.Margin} |");
        }

        md.AppendLine();
    }

    private static void WriteNotes(StringBuilder md, string notesPath)
    {
        md.AppendLine("## Why: notes on the misses (written by hand)").AppendLine();
        if (File.Exists(notesPath))
        {
            md.AppendLine(File.ReadAllText(notesPath).Trim()).AppendLine();
        }
        else
        {
            md.AppendLine($"_Not written yet. For each missed target, `{NotesFile}` says what bounds it (profile evidence); the report includes that file here verbatim._").AppendLine();
        }
    }

    /// <summary>
    /// One scenario's medians: a column per server, then VizHtml ÷ each peer, then each other VizHtml host ÷ vizhtml
    /// (the Kestrel host).
    /// </summary>
    internal static void WriteTable(StringBuilder md, string scenario, List<ResultRow> rows, IReadOnlyList<string> servers, IReadOnlyList<string> metricOrder)
    {
        var present = servers.Where(s => rows.Any(r => r.Server == s)).ToList();
        var hasViz = present.Contains(ServerCatalog.VizHtml);
        var variants = hasViz ? present.Where(IsVariant).ToList() : [];
        var peers = present.Where(s => s != ServerCatalog.VizHtml && !IsVariant(s)).ToList();
        var metrics = metricOrder.Where(m => rows.Any(r => r.Metric == m)).Concat(rows.Select(r => r.Metric).Where(m => !metricOrder.Contains(m) && m != "not_measured").Distinct()).ToList();

        md.AppendLine($"### {scenario}").AppendLine();
        md.Append("| | ").Append(string.Join(" | ", present));
        if (hasViz)
        {
            md.Append(string.Concat(peers.Select(p => $" | ÷ {p}")));
            md.Append(string.Concat(variants.Select(v => $" | {v} ÷ vizhtml")));
        }

        md.AppendLine(" |");
        md.Append("|---").Append(string.Concat(Enumerable.Repeat("|---:", present.Count + (hasViz ? peers.Count + variants.Count : 0)))).AppendLine("|");
        foreach (var metric in metrics)
        {
            var byServer = rows.Where(r => r.Metric == metric).GroupBy(r => r.Server).ToDictionary(g => g.Key, g => g.First());
            var label = MetricNames.GetValueOrDefault(metric) ?? $"{metric}{(byServer.Values.FirstOrDefault()?.Unit is { Length: > 0 } unit ? $" ({unit})" : string.Empty)}";
            md.Append($"| {label}");
            foreach (var server in present)
            {
                var cell = byServer.TryGetValue(server, out var row) && row.Median is { } median ? Targets.Number(median) : "–";
                if (metric == "deliveries_per_s" && row?.Note?.Contains("client-bound", StringComparison.Ordinal) == true)
                {
                    cell += " †";
                }

                md.Append($" | {cell}");
            }

            if (hasViz)
            {
                byServer.TryGetValue(ServerCatalog.VizHtml, out var viz);

                // The load generator's figures and the chosen counts describe the setup, not VizHtml: no ratio.
                var comparable = !metric.StartsWith("loadgen_", StringComparison.Ordinal) && viz?.Better != "n/a";
                foreach (var peer in peers)
                {
                    md.Append($" | {(comparable ? Ratio(viz, byServer.GetValueOrDefault(peer)) : "–")}");
                }

                foreach (var variant in variants)
                {
                    md.Append($" | {(comparable ? Ratio(byServer.GetValueOrDefault(variant), viz) : "–")}");
                }
            }

            md.AppendLine(" |");
        }

        md.AppendLine();
        var notes = rows.Where(r => r.Note is not null).Select(r => (r.Server, Note: r.Note!)).Distinct().ToList();
        foreach (var (server, note) in notes)
        {
            md.AppendLine($"- {server}: {note}");
        }

        if (notes.Count > 0)
        {
            md.AppendLine();
        }
    }

    private static bool IsVariant(string server) => ServerCatalog.Find(server)?.IsVizHtmlVariant == true;

    private static string Ratio(ResultRow? numerator, ResultRow? denominator) =>
        numerator?.Median is { } n && denominator?.Median is { } d && d != 0
            ? (n / d).ToString(n / d >= 10 ? "0" : "0.00", Inv) + "×"
            : "–";

    private static void WriteAllRuns(StringBuilder md, ResultSet results)
    {
        md.AppendLine("## Every run").AppendLine();
        md.AppendLine("<details><summary>All values behind the medians above</summary>").AppendLine();
        md.AppendLine("| file | scenario | server | metric | runs | median |");
        md.AppendLine("|---|---|---|---|---|---:|");
        foreach (var (file, row) in results.Rows)
        {
            md.AppendLine($"| {file} | {row.Scenario} | {row.Server} | {row.Metric} | {string.Join(", ", row.Values.Select(Targets.Number))} | {(row.Median is { } m ? Targets.Number(m) : "–")} |");
        }

        md.AppendLine().AppendLine("</details>").AppendLine();
    }

    /// <summary>Servers in the catalog's order (VizHtml first), then any other names the rows use.</summary>
    private static List<string> Servers(ResultSet results) => Servers(results.Rows.Select(r => r.Row));

    internal static List<string> Servers(IEnumerable<ResultRow> rows)
    {
        var names = rows.Select(r => r.Server).Distinct().ToList();
        return ServerCatalog.All.Select(s => s.Name).Where(names.Contains).Concat(names.Where(n => ServerCatalog.Find(n) is null)).ToList();
    }

    internal static long ScenarioOrder(string scenario)
    {
        // Numbers in the name in order (broadcast-1000x64 → 1000, 64), so 100 comes before 1000 and 64 before 1024.
        long key = 0;
        foreach (var part in scenario.Split('-', 'x'))
        {
            key = (key * 100_000) + (long.TryParse(part.TrimEnd('h', 'z'), NumberStyles.None, Inv, out var n) ? Math.Min(n, 99_999) : 99_999);
        }

        return key;
    }

    /// <summary>A "## " section of a markdown text, up to the next one; null when absent.</summary>
    internal static string? Section(string text, string heading)
    {
        var start = text.IndexOf(heading, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var end = text.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? text[start..] : text[start..(end + 1)];
    }

    /// <summary>
    /// Puts <paramref name="section"/> (which starts with <paramref name="heading"/>) in place of that section of
    /// <paramref name="markdownPath"/>, or, the first time, before the sections of VizHtml.Bench (the one-slow-client
    /// section) and after the load generator's own; the rest of the file is left as it is.
    /// </summary>
    public static void ReplaceSection(string markdownPath, string heading, string section)
    {
        var text = File.Exists(markdownPath) ? File.ReadAllText(markdownPath) : "# Benchmarks\n";
        if (Section(text, heading) is { } old)
        {
            var start = text.IndexOf(old, StringComparison.Ordinal);
            text = text[..start] + section + (start + old.Length < text.Length ? "\n" + text[(start + old.Length)..].TrimStart('\n') : string.Empty);
        }
        else
        {
            var next = text.IndexOf("\n## One slow client", StringComparison.Ordinal);
            text = next < 0 ? text.TrimEnd() + "\n\n" + section : text[..(next + 1)] + section + "\n" + text[(next + 1)..];
        }

        File.WriteAllText(markdownPath, text.TrimEnd() + "\n");
    }
}
