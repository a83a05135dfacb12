namespace VizHtml.LoadGen.Report;

internal static class ReportWriter
{
    public static void Write(string repoRoot, string command) => throw new NotImplementedException(repoRoot + command);
}
