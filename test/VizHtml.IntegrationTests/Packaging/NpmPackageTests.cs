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
        Assert.Equal("MIT", manifest.RootElement.GetProperty("license").GetString());
        Assert.Equal(
            await File.ReadAllTextAsync(Path.Combine(NpmPackageFixture.ScriptSource, "..", "..", "..", "LICENSE")),
            await File.ReadAllTextAsync(Path.Combine(installed, "dist", "LICENSE")));
        var module = await File.ReadAllTextAsync(Path.Combine(installed, "dist", "index.js"));
        Assert.Contains("export const WebSocket = root.viz.WebSocket;", module, StringComparison.Ordinal);
        Assert.Contains("export const RequestError = root.viz.RequestError;", module, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTypedPageAndTheUntypedUsesCheckUnderStrict()
    {
        // page.ts's @ts-expect-error lines count too: one that compiles is an error ("unused directive").
        var problems = package.DiagnosticsIn("page");
        Assert.True(problems.Count == 0, "test/npm-package/page does not type-check against the packed package:\n" + string.Join('\n', problems.Select(p => p.Text)));
    }

    [Fact]
    public void EachMistakeThePageExpectsIsACompileErrorOnItsLine()
    {
        // page.ts without its @ts-expect-error directives: every line below one must now fail, and nothing else.
        Assert.True(package.MistakeLines.Count >= 5, $"page.ts has {package.MistakeLines.Count} @ts-expect-error lines: the check has lost its mistakes");

        var failing = package.DiagnosticsIn("unchecked").Select(d => d.Line).Distinct().Order().ToList();

        Assert.True(
            package.MistakeLines.SequenceEqual(failing),
            $"Expected errors on lines {string.Join(", ", package.MistakeLines)} of page.ts only; tsc printed:\n{package.TypeCheck}");
    }

    [Fact]
    public void TheReadmesBundledPageExamplesCheckAgainstThePackage()
    {
        Assert.True(package.ReadmeBlocks.Count > 0, "README.md has no ```ts block: its bundled-page example is gone or the extraction is broken");

        var problems = package.DiagnosticsIn("readme");

        Assert.True(
            problems.Count == 0,
            "README.md's ```ts blocks do not type-check against the packed package:\n"
                + string.Join('\n', problems.Select(p => Regex.Replace(p.Text, @"^readme/readme-\d+\.ts", "README.md"))));
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
        server.Server.OnRequest<int, int>("double", (n, e) => n > 0 ? n * 2 : Refuse());
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var errors = PageDiagnostics.CollectPageErrors(page);
        var consoleErrors = PageDiagnostics.CollectConsole(page, "error");

        await page.GotoAsync($"{server.HttpBase}vizhtml/bundled/");

        // The page answers the pose its connect brings, then closes and reconnects once: a second session, the same again.
        await Expect(page.Locator("#opens")).ToHaveTextAsync("2");
        await Expect(page.Locator("#ack")).ToHaveTextAsync("43");
        await Expect(page.Locator("#pose")).ToHaveTextAsync("40,2");
        await Expect(page.Locator("#last")).ToHaveTextAsync("ack 43");
        await Expect(page.Locator("#supported")).ToHaveTextAsync("true");
        await Expect(page.Locator("#doubled")).ToHaveTextAsync("42");
        await Expect(page.Locator("#refused")).ToHaveTextAsync("negative");
        await Expect(page.Locator("#global")).ToHaveTextAsync("undefined");
        var received = await messages.WaitForCountAsync(4);
        Assert.Equal(4, received.Count);
        Assert.All(received.Where(m => m.Event == "ready"), m => Assert.True(m.Data.IsNull));
        Assert.All(received.Where(m => m.Event == "button_click"), m => Assert.Equal(42, m.Data.GetInt32("count")));
        Assert.Equal(2, received.Count(m => m.Event == "ready"));
        Assert.Equal(2, received.Select(m => m.Client.Id).Distinct().Count());
        Assert.Empty(errors);
        Assert.Empty(consoleErrors);
    }

    private static int Refuse() => throw new VizRequestException("negative", "only positive numbers are doubled");
}
