using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.Packaging;

/// <summary>
/// The npm package (npm/vizhtml) as a bundled page uses it: packed, installed from its tarball, imported as an ES
/// module, bundled by esbuild, type-checked by tsc --strict with typed events, and run in Chromium against a server.
/// </summary>
public sealed class NpmPackageTests(NpmPackageFixture package, BrowserFixture browser) : IClassFixture<NpmPackageFixture>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task ThePackageCarriesTheServedScriptAndItsTypesByteForByte()
    {
        var installed = Path.Combine(package.App, "node_modules", "vizhtml");
        Assert.Equal(
            await File.ReadAllBytesAsync(Path.Combine(NpmPackageFixture.ScriptSource, "vizhtml.js")),
            await File.ReadAllBytesAsync(Path.Combine(installed, "dist", "vizhtml.js")));
        Assert.Equal(
            await File.ReadAllBytesAsync(Path.Combine(NpmPackageFixture.ScriptSource, "vizhtml.d.ts")),
            await File.ReadAllBytesAsync(Path.Combine(installed, "dist", "vizhtml.d.ts")));

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(installed, "package.json")));
        var main = manifest.RootElement.GetProperty("exports").GetProperty(".");
        Assert.Equal("./dist/index.js", main.GetProperty("import").GetString());
        Assert.Equal("./dist/index.d.ts", main.GetProperty("types").GetString());
        var module = await File.ReadAllTextAsync(Path.Combine(installed, "dist", "index.js"));
        Assert.Contains("export const WebSocket = root.viz.WebSocket;", module, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTypedPageAndTheUntypedUsesCheckUnderStrict()
    {
        // page.ts's @ts-expect-error lines count too: one that compiles is an error ("unused directive").
        Assert.Equal("", await package.TypeCheckAsync("-p", "tsconfig.json"));
    }

    [Fact]
    public async Task EachMistakeThePageExpectsIsACompileErrorOnItsLine()
    {
        // page.ts without its @ts-expect-error directives: every line below one must now fail, and nothing else.
        var lines = await File.ReadAllLinesAsync(Path.Combine(package.App, "page", "page.ts"));
        var expected = lines.Select((line, i) => (line, i)).Where(l => l.line.TrimStart().StartsWith("// @ts-expect-error", StringComparison.Ordinal)).Select(l => l.i + 2).ToList();
        Assert.True(expected.Count >= 5, $"page.ts has {expected.Count} @ts-expect-error lines: the check has lost its mistakes");
        Directory.CreateDirectory(Path.Combine(package.App, "unchecked"));
        await File.WriteAllLinesAsync(
            Path.Combine(package.App, "unchecked", "page.ts"),
            lines.Select(l => l.Replace("// @ts-expect-error", "// (was @ts-expect-error)", StringComparison.Ordinal)));
        await File.WriteAllTextAsync(
            Path.Combine(package.App, "tsconfig.unchecked.json"),
            """{ "extends": "./tsconfig.json", "include": ["unchecked/page.ts"] }""");

        var printed = await package.TypeCheckAsync("-p", "tsconfig.unchecked.json");

        var failing = Regex.Matches(printed, @"unchecked/page\.ts\((\d+),\d+\): error TS\d+")
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .Distinct()
            .Order()
            .ToList();
        Assert.True(expected.SequenceEqual(failing), $"Expected errors on lines {string.Join(", ", expected)} only; tsc printed:\n{printed}");
    }

    [Fact]
    public async Task TheReadmesBundledPageExamplesCheckAgainstThePackage()
    {
        var blocks = ReadmeTypeScriptBlocks();
        Assert.True(blocks.Count > 0, "README.md has no ```ts block: its bundled-page example is gone or the extraction is broken");
        Directory.CreateDirectory(Path.Combine(package.App, "readme"));
        foreach (var (firstLine, code) in blocks)
        {
            // Blank lines up to the block, so tsc's line numbers are README.md's.
            await File.WriteAllTextAsync(
                Path.Combine(package.App, "readme", $"readme-{firstLine.ToString(CultureInfo.InvariantCulture)}.ts"),
                new string('\n', firstLine - 1) + code + "\n");
        }

        await File.WriteAllTextAsync(
            Path.Combine(package.App, "tsconfig.readme.json"),
            """{ "extends": "./tsconfig.json", "compilerOptions": { "noUnusedLocals": false }, "include": ["readme/*.ts"] }""");

        var printed = await package.TypeCheckAsync("-p", "tsconfig.readme.json");

        Assert.True(printed.Length == 0, "README.md's ```ts blocks do not type-check against the packed package:\n" + Regex.Replace(printed, @"readme/readme-\d+\.ts", "README.md"));
    }

    [Fact]
    public async Task TheBundledPageTalksToARealServerInChromium()
    {
        await using var server = await TestServer.StartAsync();
        server.Server.RegisterFolder("bundled", package.Site);
        var messages = new EventLog<VizMessageEvent>();
        server.Server.OnConnect(e => e.Client.Send("pose", new { x = 40, y = 2 }));
        server.Server.OnMessage(messages.Add);
        server.Server.OnMessage("button_click", e => e.Client.Send("ack", new { count = e.Data.GetInt32("count") + 1 }));
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var errors = PageDiagnostics.CollectPageErrors(page);
        var consoleErrors = PageDiagnostics.CollectConsole(page, "error");

        await page.GotoAsync($"{server.HttpBase}vizhtml/bundled/");

        await Expect(page.Locator("#ack")).ToHaveTextAsync("43");
        await Expect(page.Locator("#pose")).ToHaveTextAsync("40,2");
        await Expect(page.Locator("#last")).ToHaveTextAsync("ack 43");
        await Expect(page.Locator("#supported")).ToHaveTextAsync("true");
        await Expect(page.Locator("#global")).ToHaveTextAsync("undefined");
        var received = await messages.WaitForCountAsync(2);
        Assert.Equal(2, received.Count);
        Assert.True(Assert.Single(received, m => m.Event == "ready").Data.IsNull);
        Assert.Equal(42, Assert.Single(received, m => m.Event == "button_click").Data.GetInt32("count"));
        Assert.Empty(errors);
        Assert.Empty(consoleErrors);
    }

    /// <summary>README.md's ```ts blocks: the line of each one's first line of code, and its code.</summary>
    private static List<(int FirstLine, string Code)> ReadmeTypeScriptBlocks()
    {
        var lines = File.ReadAllLines(Path.Combine(NpmPackageFixture.Root, "README.md"));
        var blocks = new List<(int, string)>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimEnd() != "```ts")
            {
                continue;
            }

            var end = Array.FindIndex(lines, i + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            Assert.True(end > i, $"The ```ts block at README.md line {i + 1} is never closed");
            blocks.Add((i + 2, string.Join('\n', lines[(i + 1)..end])));
            i = end;
        }

        return blocks;
    }
}
