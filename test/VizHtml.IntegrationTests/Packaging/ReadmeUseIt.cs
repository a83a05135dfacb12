using System.Text.RegularExpressions;

namespace VizHtml.IntegrationTests.Packaging;

/// <summary>The program and page of a README's "## Use it" section: its first <c>csharp</c> and first <c>html</c> code blocks.</summary>
public sealed partial record ReadmeUseIt(string Program, string Page)
{
    public static ReadmeUseIt Read(string readme)
    {
        var start = readme.IndexOf("\n## Use it\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "The README has no \"## Use it\" section.");
        var next = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = next < 0 ? readme[start..] : readme[start..next];
        return new ReadmeUseIt(Block(section, "csharp"), Block(section, "html"));
    }

    private static string Block(string section, string language)
    {
        var match = CodeBlock().Matches(section).FirstOrDefault(m => m.Groups["language"].Value == language);
        Assert.True(match is not null, $"The README's \"Use it\" section has no ```{language} block.");
        return match.Groups["code"].Value;
    }

    [GeneratedRegex(@"^```(?<language>\w+)\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CodeBlock();
}
