using System.Diagnostics;
using System.Text;
using VizHtml.LoadGen.Servers;

namespace VizHtml.LoadGen.Report;

/// <summary>
/// The "Standalone host (issue 12)" section of docs/benchmarks.md: VizHtml's own HTTP/1.1 server on .NET 10 and under
/// Mono beside its Kestrel host and the raw Kestrel baseline, broadcast and idle memory only, from a run of its own
/// (bench/results/standalone/), with the targets of issue 12. The section replaces itself and leaves the rest of the
/// file alone, so it can be rerun without the whole suite.
/// </summary>
internal static class StandaloneSection
{
    public const string Heading = "## Standalone host (issue 12)";

    /// <summary>The command that runs the servers and rewrites the section (bench/run.sh runs it too).</summary>
    public const string Command = "dotnet run -c Release --project bench/VizHtml.LoadGen -- standalone --runs 3 --write docs/benchmarks.md";

    /// <summary>Its own results folder, so the main report's tables stay one run.</summary>
    public const string ResultsFolder = "bench/results/standalone";

    public static IReadOnlyList<string> Servers { get; } = [ServerCatalog.VizHtml, ServerCatalog.VizHtmlStandalone, ServerCatalog.VizHtmlMono, "kestrel"];

    public static IReadOnlyList<string> Scenarios { get; } = ["broadcast", "idle"];

    /// <summary>Renders the section from bench/results/standalone and puts it in place of the old one (or before the sections other commands write).</summary>
    public static void Write(string repoRoot, string markdownPath, string? note)
    {
        var folder = Path.Combine(repoRoot, ResultsFolder);
        var (results, info, rows, servers) = SectionParts.Load(folder);

        var md = new StringBuilder();
        md.AppendLine(Heading).AppendLine();
        md.AppendLine($"Reproduce with one command (about 15 minutes with 3 runs; the rest of this file is left as it is): `{Command}`.").AppendLine();
        md.AppendLine("`vizhtml` is VizHtml on its default host, Kestrel, on .NET 10; `vizhtml-standalone` is the same program with " +
            "`Host = VizHtmlHost.Standalone` (VizHtml's own HTTP/1.1 server, `VIZHTML_HOST=standalone`); `vizhtml-mono` is VizHtml's .NET Standard 2.0 " +
            "build, so the standalone server, under Mono (`bench/servers/VizHtmlMonoBenchServer`). `kestrel` is the raw Kestrel WebSocket baseline. " +
            "Each runs alone on core 0, the load generator on core 1, as in the tables above; `… ÷ vizhtml` columns compare with the Kestrel host.").AppendLine();
        SectionParts.AppendRun(md, info, note, MonoVersion());
        SectionParts.AppendProblems(md, rows);
        md.AppendLine("Targets of issue 12 (Mono has none; its figures are in the tables):").AppendLine();
        ReportWriter.WriteTargetTable(md, Targets.CheckStandalone(results));
        SectionParts.AppendTables(md, rows, servers);

        ReportWriter.ReplaceSection(markdownPath, Heading, md.ToString().TrimEnd() + "\n");
        Console.WriteLine($"wrote the \"{Heading[3..]}\" section of {markdownPath} from {rows.Count} rows");
    }

    private static string MonoVersion()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("mono", "--version") { RedirectStandardOutput = true });
            var first = process?.StandardOutput.ReadLine() ?? "Mono: unknown";
            process?.WaitForExit();
            // "Mono JIT compiler version 6.8.0.105 (Debian 6.8.0.105+dfsg-3.3 Wed Jul 26 12:03:24 UTC 2023)"
            var version = first.Split(' ').SkipWhile(w => w != "version").Skip(1).FirstOrDefault();
            return version is null ? first : $"Mono {version}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "Mono: not installed";
        }
    }
}
