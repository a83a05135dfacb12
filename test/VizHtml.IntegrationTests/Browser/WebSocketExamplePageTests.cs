using Microsoft.Playwright;
using VizHtml.IntegrationTests.Infrastructure;
using WebSocketExample;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>The WebSocket sample page (samples/WebSocketExample) in Chromium against a real server.</summary>
public sealed class WebSocketExamplePageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Theory]
    [OnEveryHost]
    public async Task SamplePageConnectsShowsTheClockAndReportsThreeClicksInOrderFromLoopback(TestHost host)
    {
        var serverLog = new ServerLog();
        await using var server = await TestServer.StartAsync(host, o => o.LoggerFactory = serverLog.Factory);
        var output = new LineWriter();
        using var example = WebSocketExampleApp.Attach(server.Server, output);
        using var stopClock = new CancellationTokenSource();
        var clock = WebSocketExampleApp.RunClockAsync(server.Server, stopClock.Token);
        try
        {
            await using var context = await browser.NewContextAsync();
            var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
            var pageErrors = PageDiagnostics.CollectPageErrors(page);

            await SamplePage.OpenAndSeeTheClockTickAsync(page, $"{server.HttpBase}vizhtml/{WebSocketExampleApp.PageName}");

            await SamplePage.ClickAsync(page, 3);

            var lines = await output.WaitForLinesAsync(l => l.StartsWith("BUTTON CLICK", StringComparison.Ordinal), 3, serverLog.Describe);
            Assert.Equal(
                ["CONNECT 127.0.0.1", "BUTTON CLICK 1 from 127.0.0.1", "BUTTON CLICK 2 from 127.0.0.1", "BUTTON CLICK 3 from 127.0.0.1"],
                lines);
            Assert.Equal(1, server.Server.ClientCount);
            Assert.Empty(pageErrors);
            Assert.Empty(serverLog.Errors);
        }
        finally
        {
            await stopClock.CancelAsync();
            await clock.WaitAsync(TestServer.Timeout);
        }
    }

    [Theory, OnOwnHosts]
    public async Task OnAnOwnServerTheRootLeadsToTheIndexAndTheSamplePageLoadsWithACleanConsole(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var output = new LineWriter();
        using var example = WebSocketExampleApp.Attach(server.Server, output);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var consoleErrors = PageDiagnostics.CollectConsole(page, "error");
        var failed = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                failed.Enqueue($"{response.Status} {response.Url}");
            }
        };

        await page.GotoAsync(server.HttpBase.ToString());
        Assert.Equal($"{server.HttpBase}vizhtml/", page.Url);

        await page.GotoAsync($"{server.HttpBase}vizhtml/{WebSocketExampleApp.PageName}/");
        await Expect(page.Locator("#status")).ToHaveTextAsync("connected");
        await page.ClickAsync("#my_button");
        await output.WaitForLinesAsync(l => l == "BUTTON CLICK 1 from 127.0.0.1");

        // Chromium asks for /favicon.ico beside the page; wait for that answer before judging the console.
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle).WaitAsync(TestServer.Timeout);
        Assert.Empty(failed);
        Assert.Empty(consoleErrors);
    }

    [Theory]
    [OnEveryHost]
    public async Task SamplePageShowsTheOutageAndReconnectsByItselfWhenTheServerRestartsOnTheSamePort(TestHost host)
    {
        // Port 0: the system picks the port, and the restart must reuse it or the open page cannot come back.
        var serverLog = new ServerLog();
        await using var server = await TestServer.StartAsync(host, o => o.LoggerFactory = serverLog.Factory);
        var output = new LineWriter();
        using var example = WebSocketExampleApp.Attach(server.Server, output);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageErrors = PageDiagnostics.CollectPageErrors(page);
        var status = page.Locator("#status");
        var button = page.Locator("#my_button");

        await page.GotoAsync($"{server.HttpBase}vizhtml/{WebSocketExampleApp.PageName}/");
        await Expect(status).ToHaveTextAsync("connected");
        await button.ClickAsync();
        await output.WaitForLinesAsync(l => l == "BUTTON CLICK 1 from 127.0.0.1", context: serverLog.Describe);
        var port = server.Server.Port;

        await server.Server.StopAsync().WaitAsync(TestServer.Timeout);

        await Expect(status).ToHaveTextAsync("waiting for connection");
        await Expect(button).ToBeDisabledAsync();
        await output.WaitForLinesAsync(l => l == "DISCONNECT 127.0.0.1", context: serverLog.Describe);

        await server.Server.StartAsync().WaitAsync(TestServer.Timeout);

        Assert.Equal(port, server.Server.Port);
        await Expect(status).ToHaveTextAsync("connected");
        await Expect(button).ToBeEnabledAsync();
        await button.ClickAsync();
        var lines = await output.WaitForLinesAsync(l => l == "BUTTON CLICK 2 from 127.0.0.1", context: serverLog.Describe);
        Assert.Equal(
            ["CONNECT 127.0.0.1", "BUTTON CLICK 1 from 127.0.0.1", "DISCONNECT 127.0.0.1", "CONNECT 127.0.0.1", "BUTTON CLICK 2 from 127.0.0.1"],
            lines);
        Assert.Equal(1, server.Server.ClientCount);
        Assert.Empty(pageErrors);
        Assert.Empty(serverLog.Errors);
    }
}
