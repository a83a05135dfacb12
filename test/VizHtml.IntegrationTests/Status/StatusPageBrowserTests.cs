using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;
using static VizHtml.IntegrationTests.Security.SecurityTestSupport;

namespace VizHtml.IntegrationTests.Status;

/// <summary>The live status page at <c>/vizhtml/_status</c>, opened in Chromium beside two test pages.</summary>
public sealed class StatusPageBrowserTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Theory]
    [OnEveryHost]
    public async Task TheStatusPageListsTwoConnectedPagesWithTheirAddressesAndRisingCounters(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var hellos = RecorderPage.Register(server.Server);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        var pings = new EventLog<VizMessageEvent>();
        server.Server.OnMessage("ping", pings.Add);
        await using var context = await browser.NewContextAsync();
        var (pageA, clientA) = await RecorderPage.OpenAsync(context, server, hellos, "A");
        var (pageB, clientB) = await RecorderPage.OpenAsync(context, server, hellos, "B");

        var status = await OpenStatusPageAsync(context, server);
        var rowA = Row(status, clientA);
        var rowB = Row(status, clientB);
        await Expect(rowA.Locator("td.address")).ToHaveTextAsync("127.0.0.1");
        await Expect(rowB.Locator("td.address")).ToHaveTextAsync("127.0.0.1");
        await Expect(rowA.Locator("td.protocol")).ToHaveTextAsync("2");
        await Expect(rowA.Locator("td.ua")).ToContainTextAsync("Chrome");
        await Expect(status.Locator("#clients tbody tr[data-id]")).ToHaveCountAsync(2);
        await Expect(status.Locator("#client-count")).ToHaveTextAsync("2");

        // The status page's own socket is no client: not counted, no connect event.
        Assert.Equal(2, server.Server.ClientCount);
        Assert.Equal(2, connects.Items.Count);

        // Events the pages send: A's count rises by what it sent, and its rate shows them.
        var inBefore = await NumberAsync(rowA, "td.events-in");
        for (var i = 0; i < 5; i++)
        {
            await pageA.EvaluateAsync("() => socket.send('ping', 1)");
        }

        await pings.WaitForCountAsync(5);
        await WaitForNumberAsync(status, clientA, "td.events-in", inBefore + 5);
        await WaitForNumberAsync(status, clientA, "td.in", 0.1);

        // Broadcasts from the server: both pages' counts of events out rise.
        var outBeforeA = await NumberAsync(rowA, "td.events-out");
        var outBeforeB = await NumberAsync(rowB, "td.events-out");
        Assert.Equal(2, server.Server.SendAll("news", 1));
        Assert.Equal(2, server.Server.SendAll("news", 2));
        Assert.Equal(2, server.Server.SendAll("news", 3));
        await RecorderPage.WaitForReceivedAsync(pageA, "news", 3);
        await RecorderPage.WaitForReceivedAsync(pageB, "news", 3);
        await WaitForNumberAsync(status, clientA, "td.events-out", outBeforeA + 3);
        await WaitForNumberAsync(status, clientB, "td.events-out", outBeforeB + 3);
        Assert.Equal(2, server.Server.ClientCount);
    }

    [Theory]
    [OnEveryHost]
    public async Task TheStatusPageShowsARefusedCrossOriginSocket(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        await using var context = await browser.NewContextAsync();
        var status = await OpenStatusPageAsync(context, server);
        await Expect(status.Locator("#refusals tbody tr.empty")).ToHaveCountAsync(1);

        Assert.Equal(403, await UpgradeStatusAsync(server.SocketUri, o => o.SetRequestHeader("Origin", "http://evil.example")));

        var refusal = status.Locator("#refusals tbody tr").First;
        await Expect(refusal.Locator("td.rule")).ToHaveTextAsync("origin");
        await Expect(refusal.Locator("td.address")).ToHaveTextAsync("127.0.0.1");
    }

    [Theory]
    [OnEveryHost]
    public async Task TheStatusPageAsksForTheKeyWhenOneIsSetAndOpensWithIt(TestHost host)
    {
        const string Key = "status-page-key-123";
        await using var server = await TestServer.StartAsync(host, o => o.AccessKey = Key);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);

        var response = await page.GotoAsync($"{server.HttpBase}vizhtml/_status");
        Assert.Equal(401, response!.Status);
        await Expect(page.Locator("#ask-key input[name=key]")).ToBeVisibleAsync();
        await Expect(page.Locator("#clients")).ToHaveCountAsync(0);
        Assert.DoesNotContain(Key, await page.ContentAsync(), StringComparison.Ordinal);

        await page.Locator("#ask-key input[name=key]").FillAsync(Key);
        await page.Locator("#ask-key button").ClickAsync();
        await Expect(page.Locator("#state")).ToHaveTextAsync("live");
        await Expect(page.Locator("#server dd[data-option=accessKey]")).ToHaveTextAsync("yes");
        Assert.DoesNotContain(Key, await page.Locator("body").InnerTextAsync(), StringComparison.Ordinal);

        // The page's socket without the key is refused like any other request.
        Assert.Equal(401, await UpgradeStatusAsync(new Uri($"ws://127.0.0.1:{server.Port}/vizhtml/_status/socket")));
    }

    /// <summary>
    /// The screenshot in the README: the status page with two pages connected and talking, a refusal and a disconnect. It
    /// is written beside the tests every run; with <c>VIZHTML_UPDATE_DOCS=1</c> also to <c>docs/status-page.png</c>.
    /// </summary>
    [Fact]
    public async Task TheDocsScreenshotShowsTwoConnectedPages()
    {
        await using var server = await TestServer.StartAsync();
        var hellos = RecorderPage.Register(server.Server);
        var news = 0;
        server.Server.OnMessage("ping", _ => server.Server.SendAll("news", Interlocked.Increment(ref news)));
        await using var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
        context.SetDefaultTimeout((float)TestServer.Timeout.TotalMilliseconds);
        var (pageA, _) = await RecorderPage.OpenAsync(context, server, hellos, "A");
        var (pageB, _) = await RecorderPage.OpenAsync(context, server, hellos, "B");
        var (leaving, _) = await RecorderPage.OpenAsync(context, server, hellos, "C");
        await leaving.CloseAsync();
        await TestServer.WaitUntilAsync(() => server.Server.ClientCount == 2);
        Assert.Equal(403, await UpgradeStatusAsync(server.SocketUri, o => o.SetRequestHeader("Origin", "http://evil.example")));

        var status = await OpenStatusPageAsync(context, server);
        await pageA.EvaluateAsync("() => { window.pinging = setInterval(() => socket.send('ping', 1), 50); }");
        await pageB.EvaluateAsync("() => { window.pinging = setInterval(() => socket.send('ping', 2), 200); }");

        // A few seconds of rates for the chart: each second the page draws one more point.
        await status.WaitForFunctionAsync("() => document.querySelector('#rates .in').getAttribute('d').split(' ').length >= 12", null, new PageWaitForFunctionOptions { PollingInterval = 100, Timeout = 30_000 });
        await Expect(status.Locator("#clients tbody tr[data-id]")).ToHaveCountAsync(2);
        await Expect(status.Locator("#disconnects tbody tr:not(.empty)")).ToHaveCountAsync(1);
        var png = await status.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        Assert.True(png.Length > 10_000, $"the screenshot is only {png.Length} bytes");

        await File.WriteAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "status-page.png"), png);
        if (Environment.GetEnvironmentVariable("VIZHTML_UPDATE_DOCS") == "1")
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (!File.Exists(Path.Combine(root.FullName, "VizHtml.slnx")))
            {
                root = root.Parent ?? throw new InvalidOperationException("The repository root (VizHtml.slnx) was not found above the tests.");
            }

            await File.WriteAllBytesAsync(Path.Combine(root.FullName, "docs", "status-page.png"), png);
        }
    }

    internal static async Task<IPage> OpenStatusPageAsync(IBrowserContext context, TestServer server)
    {
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var response = await page.GotoAsync($"{server.HttpBase}vizhtml/_status");
        Assert.Equal(200, response!.Status);
        await Expect(page.Locator("#state")).ToHaveTextAsync("live");
        return page;
    }

    private static ILocator Row(IPage status, VizClient client) => status.Locator($"#clients tbody tr[data-id='{client.Id}']");

    private static async Task<double> NumberAsync(ILocator row, string cell) =>
        double.Parse(await row.Locator(cell).TextContentAsync() ?? "", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Waits until the client's cell shows at least <paramref name="atLeast"/> (the page redraws once a second).</summary>
    private static async Task WaitForNumberAsync(IPage status, VizClient client, string cell, double atLeast) =>
        await status.WaitForFunctionAsync(
            "([id, cell, atLeast]) => { const td = document.querySelector(`#clients tbody tr[data-id='${id}'] ${cell}`); return td !== null && Number(td.textContent) >= atLeast; }",
            new object[] { client.Id, cell, atLeast },
            new PageWaitForFunctionOptions { PollingInterval = 50 });
}
