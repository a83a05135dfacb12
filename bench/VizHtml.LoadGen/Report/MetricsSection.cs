using System.Text;
using VizHtml.LoadGen.Servers;

namespace VizHtml.LoadGen.Report;

/// <summary>
/// The "Metrics and tracing cost (issue 13)" section of docs/benchmarks.md: the vizhtml program with nobody listening to
/// its meter and activity source against the same program with a MeterListener on every VizHtml instrument and an
/// ActivityListener on the VizHtml source (<c>vizhtml-metrics</c>), broadcast only, in one run of its own
/// (bench/results/metrics/), with issue 13's 3 % target. The section replaces itself and leaves the rest of the file alone.
/// </summary>
internal static class MetricsSection
{
    public const string Heading = "## Metrics and tracing cost (issue 13)";

    /// <summary>The command that runs both servers and rewrites the section.</summary>
    public const string Command = "dotnet run -c Release --project bench/VizHtml.LoadGen -- metrics --runs 3 --write docs/benchmarks.md";

    public const string ResultsFolder = "bench/results/metrics";

    public static IReadOnlyList<string> Servers { get; } = [ServerCatalog.VizHtml, ServerCatalog.VizHtmlMetrics];

    public static IReadOnlyList<string> Scenarios { get; } = ["broadcast"];

    public static void Write(string repoRoot, string markdownPath, string? note)
    {
        var folder = Path.Combine(repoRoot, ResultsFolder);
        var results = ResultSet.Load(folder);
        var info = RunInfo.Read(Path.Combine(folder, "loadgen.meta.json"));
        var rows = results.Rows.Select(r => r.Row).ToList();
        var servers = ReportWriter.Servers(rows);

        var md = new StringBuilder();
        md.AppendLine(Heading).AppendLine();
        md.AppendLine($"Reproduce with one command (the rest of this file is left as it is): `{Command}`.").AppendLine();
        md.AppendLine("`vizhtml` is the benchmark server on its Kestrel host with nobody listening to the `VizHtml` meter or activity source " +
            "(its instruments exist; `Counter.Add` without a listener returns at once). `vizhtml-metrics` is the same program with " +
            "`VIZHTML_METRICS=listen`: a `MeterListener` enabled on every `VizHtml` instrument (counters summed, histograms counted, the " +
            "observable ones collected once a second, as `dotnet-counters` or an OpenTelemetry exporter would) and an `ActivityListener` " +
            "recording every `VizHtml` span. Both in the same run, each alone on core 0, the load generator on core 1. " +
            "On this path VizHtml makes one `Counter.Add` per broadcast (`vizhtml.events.sent`, with its number of recipients) and one per " +
            "socket write (`vizhtml.bytes.sent`); the broadcast benchmark registers no handler, so no span is started.").AppendLine();
        if (info is not null)
        {
            md.AppendLine($"- Run: `{info.Command}`, {info.StartedUtc:yyyy-MM-dd HH:mm}–{info.FinishedUtc:HH:mm} UTC, {info.Runs} run{(info.Runs == 1 ? string.Empty : "s")}, tables show medians{(info.Quick ? "; **quick mode** (small counts, short windows: not a measurement to quote)" : string.Empty)}.");
            md.AppendLine($"- Machine: {info.Cores} cores ({info.Cpu}), Linux {info.Kernel}, {info.DotNet}.");
        }

        if (!string.IsNullOrWhiteSpace(note))
        {
            md.AppendLine($"- **{note.Trim()}**");
        }

        md.AppendLine();
        foreach (var row in rows.Where(r => r.Scenario == "errors" && r.Note is not null))
        {
            md.AppendLine($"- Problem: {row.Server}: {row.Note}").AppendLine();
        }

        md.AppendLine("Target of issue 13:").AppendLine();
        ReportWriter.WriteTargetTable(md, Targets.CheckMetrics(results));
        foreach (var (prefix, _, _, metrics) in ReportWriter.Families)
        {
            foreach (var scenario in rows.Select(r => r.Scenario).Where(s => s.StartsWith(prefix, StringComparison.Ordinal)).Distinct().OrderBy(ReportWriter.ScenarioOrder))
            {
                ReportWriter.WriteTable(md, scenario, rows.Where(r => r.Scenario == scenario).ToList(), servers, metrics);
            }
        }

        ReportWriter.ReplaceSection(markdownPath, Heading, md.ToString().TrimEnd() + "\n");
        Console.WriteLine($"wrote the \"{Heading[3..]}\" section of {markdownPath} from {rows.Count} rows");
    }
}
