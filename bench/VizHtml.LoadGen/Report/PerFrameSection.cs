using System.Text;
using VizHtml.LoadGen.Servers;

namespace VizHtml.LoadGen.Report;

/// <summary>
/// The "Per-frame pattern (issue 15)" section of docs/benchmarks.md: VizHtml on its Kestrel host and on its own server
/// (.NET 10) against the raw Kestrel baseline and Bun, in the scenarios of a program that sends every frame and answers
/// clicks (host app, few tablets, echo), idle memory, and broadcast (so the change can be seen not to cost the burst rows),
/// from a run of its own (bench/results/perframe/), with issue 15's targets. Replaces itself and leaves the rest alone.
/// </summary>
internal static class PerFrameSection
{
    public const string Heading = "## Per-frame pattern (issue 15)";

    public const string Command = "dotnet run -c Release --project bench/VizHtml.LoadGen -- perframe --runs 3 --write docs/benchmarks.md";

    public const string ResultsFolder = "bench/results/perframe";

    public static IReadOnlyList<string> Servers { get; } = [ServerCatalog.VizHtml, ServerCatalog.VizHtmlStandalone, "kestrel", "bun"];

    public static IReadOnlyList<string> Scenarios { get; } = ["echo", "hostapp", "fewtablets", "broadcast", "idle"];

    public static void Write(string repoRoot, string markdownPath, string? note)
    {
        var folder = Path.Combine(repoRoot, ResultsFolder);
        var (results, info, rows, servers) = SectionParts.Load(folder);

        var md = new StringBuilder();
        md.AppendLine(Heading).AppendLine();
        md.AppendLine($"Reproduce with one command (about 15 minutes with 3 runs; the rest of this file is left as it is): `{Command}`. " +
            "What each remaining difference is made of, with profiles, is in [benchmarks-notes.md](benchmarks-notes.md#the-per-frame-pattern-against-raw-kestrel-issue-15).").AppendLine();
        md.AppendLine("`vizhtml` is VizHtml on its default host, Kestrel; `vizhtml-standalone` the same program on VizHtml's own HTTP/1.1 server, both on .NET 10 " +
            "and both spoken to in protocol version 2, what every `vizhtml.js` page speaks. `kestrel` is the raw Kestrel WebSocket baseline, `bun` Bun's " +
            "built-in server. Each runs alone on core 0, the load generator on core 1.").AppendLine();
        SectionParts.AppendRun(md, info, note);
        SectionParts.AppendProblems(md, rows);
        md.AppendLine("Targets of issue 15 (raw Kestrel's figures from the same runs):").AppendLine();
        ReportWriter.WriteTargetTable(md, Targets.CheckPerFrame(results));
        SectionParts.AppendTables(md, rows, servers);

        ReportWriter.ReplaceSection(markdownPath, Heading, md.ToString().TrimEnd() + "\n");
        Console.WriteLine($"wrote the \"{Heading[3..]}\" section of {markdownPath} from {rows.Count} rows");
    }
}
