using System.Text;
using VizHtml.LoadGen.Results;

namespace VizHtml.LoadGen.Report;

/// <summary>
/// What every section a command of its own writes into docs/benchmarks.md has (standalone, metrics, per-frame): the lines
/// that say which run it is, the problems the run recorded, and one table per scenario of the report's families.
/// </summary>
internal static class SectionParts
{
    /// <summary>A section's results folder: its results, the run's facts, the rows and the servers in table order.</summary>
    public static (ResultSet Results, RunInfo? Info, List<ResultRow> Rows, List<string> Servers) Load(string folder)
    {
        var results = ResultSet.Load(folder);
        var rows = results.Rows.Select(r => r.Row).ToList();
        return (results, RunInfo.Read(Path.Combine(folder, "loadgen.meta.json")), rows, ReportWriter.Servers(rows));
    }

    /// <summary>The run and machine lines (<paramref name="machineExtra"/> is appended to the machine line), then the note in bold.</summary>
    public static void AppendRun(StringBuilder md, RunInfo? info, string? note, string? machineExtra = null)
    {
        if (info is not null)
        {
            md.AppendLine($"- Run: `{info.Command}`, {info.StartedUtc:yyyy-MM-dd HH:mm}–{info.FinishedUtc:HH:mm} UTC, {info.Runs} run{(info.Runs == 1 ? string.Empty : "s")}, tables show medians{(info.Quick ? "; **quick mode** (small counts, short windows: not a measurement to quote)" : string.Empty)}.");
            md.AppendLine($"- Machine: {info.Cores} cores ({info.Cpu}), Linux {info.Kernel}, {info.DotNet}{(machineExtra is null ? string.Empty : ", " + machineExtra)}.");
        }

        if (!string.IsNullOrWhiteSpace(note))
        {
            md.AppendLine($"- **{note.Trim()}**");
        }

        md.AppendLine();
    }

    /// <summary>One line per server that failed in the run (its "errors" rows), then a blank line if there were any.</summary>
    public static void AppendProblems(StringBuilder md, IReadOnlyList<ResultRow> rows)
    {
        var problems = rows.Where(r => r.Scenario == "errors" && r.Note is not null).ToList();
        foreach (var row in problems)
        {
            md.AppendLine($"- Problem: {row.Server}: {row.Note}");
        }

        if (problems.Count > 0)
        {
            md.AppendLine();
        }
    }

    /// <summary>A table per scenario of <paramref name="rows"/>, in the report's family order.</summary>
    public static void AppendTables(StringBuilder md, IReadOnlyList<ResultRow> rows, IReadOnlyList<string> servers)
    {
        foreach (var (prefix, _, _, metrics) in ReportWriter.Families)
        {
            foreach (var scenario in rows.Select(r => r.Scenario).Where(s => s.StartsWith(prefix, StringComparison.Ordinal)).Distinct().OrderBy(ReportWriter.ScenarioOrder))
            {
                ReportWriter.WriteTable(md, scenario, rows.Where(r => r.Scenario == scenario).ToList(), servers, metrics);
            }
        }
    }
}
