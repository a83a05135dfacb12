/// <summary>Writes one section of a Markdown report, replacing the section of the same heading if it is there.</summary>
internal static class Report
{
    public static async Task WriteSectionAsync(string path, string heading, string section)
    {
        var existing = File.Exists(path) ? await File.ReadAllTextAsync(path) : "# Benchmarks\n\nProduced by the commands shown with each table; nothing here is typed in by hand.\n\n";
        var start = existing.IndexOf(heading, StringComparison.Ordinal);
        if (start >= 0)
        {
            var end = existing.IndexOf("\n## ", start + 3, StringComparison.Ordinal);
            existing = existing[..start] + (end < 0 ? string.Empty : existing[(end + 1)..]);
        }

        await File.WriteAllTextAsync(path, existing.TrimEnd() + "\n\n" + section);
    }
}
