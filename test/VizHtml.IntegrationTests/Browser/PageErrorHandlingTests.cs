using Microsoft.Playwright;
using VizHtml.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>Mistakes on either side stay contained: a throwing page handler, data the server cannot bind.</summary>
public sealed class PageErrorHandlingTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string ThrowingHandlersHtml = """
        <!DOCTYPE html>
        <html>
        <head><meta charset="utf-8"><script src="vizhtml.js"></script></head>
        <body>
          <p id="status">waiting for connection</p>
          <script>
            window.calls = [];
            window.socket = new viz.WebSocket();
            socket.onevent('open', function () { throw new Error('open handler broke'); });
            socket.onevent('open', function () { document.getElementById('status').textContent = 'connected'; });
            socket.onevent('ping', function (e) { calls.push('first ' + e.data); throw new Error('ping handler broke'); });
            socket.onevent('ping', function (e) { calls.push('second ' + e.data); });
            socket.onevent('*', function (e) { calls.push('any ' + e.event + ' ' + e.data); });
          </script>
        </body>
        </html>
        """;

    [Theory]
    [OnEveryHost]
    public async Task AThrowingPageHandlerIsReportedAndTheOtherHandlersAndTheConnectionCarryOn(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        server.Server.RegisterHtml("throwing", ThrowingHandlersHtml);
        var pongs = new EventLog<VizMessageEvent>();
        server.Server.OnMessage("pong", pongs.Add);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var consoleErrors = PageDiagnostics.CollectConsole(page, "error");
        var pageErrors = PageDiagnostics.CollectPageErrors(page);

        await page.GotoAsync($"{server.HttpBase}vizhtml/throwing/");
        await Expect(page.Locator("#status")).ToHaveTextAsync("connected");
        var client = Assert.Single(await connects.WaitForCountAsync(1)).Client;

        Assert.True(client.Send("ping", 1));
        Assert.True(client.Send("ping", 2));
        await page.WaitForFunctionAsync("() => window.calls.length >= 6", null, new PageWaitForFunctionOptions { PollingInterval = 25 });

        Assert.Equal(
            ["first 1", "second 1", "any ping 1", "first 2", "second 2", "any ping 2"],
            await page.EvaluateAsync<string[]>("() => window.calls").WaitAsync(TestServer.Timeout));
        Assert.True(await page.EvaluateAsync<bool>("() => socket.send('pong', 'still here')").WaitAsync(TestServer.Timeout));
        Assert.Equal("still here", (await pongs.WaitForCountAsync(1))[0].Data.GetString());
        Assert.Equal(1, server.Server.ClientCount);
        Assert.True(client.IsConnected);

        // Reported on the console, never as an uncaught page error.
        var errors = consoleErrors.ToArray();
        Assert.Equal(1, errors.Count(m => m.Contains("a handler for \"open\" threw", StringComparison.Ordinal)));
        Assert.Equal(2, errors.Count(m => m.Contains("a handler for \"ping\" threw", StringComparison.Ordinal)));
        Assert.Empty(pageErrors);
    }

    [Theory]
    [OnEveryHost]
    public async Task DataThatDoesNotFitTheTypedHandlerIsAnsweredWithAnErrorEventAndTheConnectionStays(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var hellos = RecorderPage.Register(server.Server);
        var points = new EventLog<Point>();
        server.Server.OnMessage<Point>("point", (p, _) => points.Add(p));
        await using var context = await browser.NewContextAsync();
        var (page, client) = await RecorderPage.OpenAsync(context, server, hellos, "typed");
        var warnings = PageDiagnostics.CollectConsole(page, "warning");

        Assert.True(await page.EvaluateAsync<bool>("() => socket.send('point', 'not a point')").WaitAsync(TestServer.Timeout));
        await RecorderPage.WaitForReceivedAsync(page, "$error", 1);

        Assert.Equal(
            "invalid_data",
            await page.EvaluateAsync<string>("() => window.received.find(e => e.event === '$error').data.code").WaitAsync(TestServer.Timeout));
        Assert.Contains(warnings, m => m.Contains("server reported an error", StringComparison.Ordinal) && m.Contains("invalid_data", StringComparison.Ordinal));
        Assert.Empty(points.Items);

        Assert.True(await page.EvaluateAsync<bool>("() => socket.send('point', viz.Data({ x: 1, y: 2 }))").WaitAsync(TestServer.Timeout));
        Assert.Equal(new Point(1, 2), Assert.Single(await points.WaitForCountAsync(1)));
        Assert.True(client.IsConnected);
    }

    public sealed record Point(int X, int Y);
}
