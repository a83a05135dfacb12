using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.Mono;

/// <summary>
/// The WebSocket sample's page (samples/WebSocketExample/websocket.html) served by VizHtml's .NET Standard build under
/// Mono (the <c>sample</c> scenario), in Chromium; with a form page and a handler page beside it.
/// </summary>
public sealed class MonoSampleInBrowserTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string FirstName = "Ada Lovelace & Co. = 100% ü€";


    [Fact]
    public async Task SamplePageUnderMonoConnectsShowsTheClockReportsThreeClicksInOrderFromLoopbackAndSeesAGracefulStop()
    {
        await using var mono = await MonoProcess.StartAsync("sample");
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageErrors = PageDiagnostics.CollectPageErrors(page);

        await SamplePage.OpenAndSeeTheClockTickAsync(page, $"http://127.0.0.1:{mono.Port}/vizhtml/websocket");

        await SamplePage.ClickAsync(page, 3);

        await mono.WaitForLinesAsync(l => l.StartsWith("BUTTON CLICK", StringComparison.Ordinal), 3);

        // A graceful stop: the page sees the close, the server reports the disconnect, and the process ends by itself.
        Assert.Equal(0, await mono.ExitAsync());
        await Expect(page.Locator("#status")).ToHaveTextAsync("waiting for connection");
        Assert.Equal(
            ["CONNECT 127.0.0.1", "BUTTON CLICK 1 from 127.0.0.1", "BUTTON CLICK 2 from 127.0.0.1", "BUTTON CLICK 3 from 127.0.0.1", "DISCONNECT 127.0.0.1"],
            await mono.WaitForLinesAsync(l => l.StartsWith("DISCONNECT", StringComparison.Ordinal)));
        Assert.Empty(pageErrors);
        Assert.Empty(mono.Errors);
    }

    [Fact]
    public async Task AFormChromiumSubmitsToTheMonoServerRaisesTheFormSubmitEventWithEveryFieldAndLandsBackOnThePage()
    {
        await using var mono = await MonoProcess.StartAsync("sample");
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageErrors = PageDiagnostics.CollectPageErrors(page);
        var pageUrl = $"http://127.0.0.1:{mono.Port}/vizhtml/form/";

        await page.GotoAsync(pageUrl);
        await page.FillAsync("input[name=first_name]", FirstName);
        await page.SelectOptionAsync("select[name=colors]", ["red", "blue"]);
        var landed = await page.RunAndWaitForResponseAsync(
            () => page.ClickAsync("#send"),
            r => r.Request.Method == "GET" && r.Url == pageUrl && r.Request.RedirectedFrom is not null);

        Assert.Equal(200, landed.Status);
        Assert.Equal("POST", landed.Request.RedirectedFrom!.Method);
        Assert.Equal(303, (await landed.Request.RedirectedFrom.ResponseAsync().WaitAsync(TestServer.Timeout))?.Status);
        await Expect(page.Locator("input[name=first_name]")).ToHaveValueAsync(string.Empty);
        var lines = await mono.WaitForLinesAsync(l => l.StartsWith("FORM ", StringComparison.Ordinal));
        Assert.Equal($"FORM form from 127.0.0.1: colors=red,blue first_name={FirstName}", Assert.Single(lines, l => l.StartsWith("FORM ", StringComparison.Ordinal)));
        Assert.Empty(pageErrors);
        Assert.Empty(mono.Errors);
    }

    [Fact]
    public async Task AFileOfThreeHundredKilobytesChromiumUploadsToTheMonoServerIsSpooledAndReadBackByteForByte()
    {
        // Past the 64 KiB kept in memory, so it goes through the spool file; no pattern a read at a wrong offset could repeat.
        var bytes = new byte[300 * 1024];
        new Random(12).NextBytes(bytes);
        var sha = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(bytes));
        await using var mono = await MonoProcess.StartAsync("sample");
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageUrl = $"http://127.0.0.1:{mono.Port}/vizhtml/upload/";

        await page.GotoAsync(pageUrl);
        await page.FillAsync("input[name=note]", "Grüße");
        await page.SetInputFilesAsync("input[name=upload]", new FilePayload { Name = "messwerte-grün.bin", MimeType = "application/octet-stream", Buffer = bytes });
        var landed = await page.RunAndWaitForResponseAsync(
            () => page.ClickAsync("#send"),
            r => r.Request.Method == "GET" && r.Url == pageUrl && r.Request.RedirectedFrom is not null);

        Assert.Equal(200, landed.Status);
        var lines = await mono.WaitForLinesAsync(l => l.StartsWith("FILE ", StringComparison.Ordinal));
        Assert.Equal(
            ["FORM upload from 127.0.0.1: note=Grüße", $"FILE upload messwerte-grün.bin application/octet-stream length={bytes.Length} content={sha} stream={sha}"],
            lines);
        Assert.Empty(mono.Errors);
    }

    [Fact]
    public async Task AHandlerPageOfTheMonoServerShowsTheHandlersAnswerToTheQuery()
    {
        await using var mono = await MonoProcess.StartAsync("sample");
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);

        var response = await page.GotoAsync($"http://127.0.0.1:{mono.Port}/vizhtml/hello/?name={Uri.EscapeDataString("Grüße & <b>")}");

        Assert.Equal(200, response?.Status);
        Assert.StartsWith("text/html", await response!.HeaderValueAsync("content-type").WaitAsync(TestServer.Timeout), StringComparison.Ordinal);
        await Expect(page.Locator("#answer")).ToHaveTextAsync("Hello, Grüße & <b>, from Mono");
        Assert.Empty(mono.Errors);
    }

    [Fact]
    public async Task SamplePageReconnectsByItselfWhenTheMonoServerIsKilledAndANewOneStartsOnTheSamePort()
    {
        var first = await MonoProcess.StartAsync("sample");
        ProgramUnderTest? second = null;
        try
        {
            await using var context = await browser.NewContextAsync();
            var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
            var pageErrors = PageDiagnostics.CollectPageErrors(page);
            var status = page.Locator("#status");
            var button = page.Locator("#my_button");

            await page.GotoAsync($"http://127.0.0.1:{first.Port}/vizhtml/websocket/");
            await Expect(status).ToHaveTextAsync("connected");
            await button.ClickAsync();
            await first.WaitForLinesAsync(l => l == "BUTTON CLICK 1 from 127.0.0.1");

            // A crash, not a stop: no close handshake reaches the page.
            await first.KillAsync();
            await Expect(status).ToHaveTextAsync("waiting for connection");
            await Expect(button).ToBeDisabledAsync();

            second = await MonoProcess.StartAsync("sample", $"port={first.Port}");

            Assert.Equal(first.Port, second.Port);
            await Expect(status).ToHaveTextAsync("connected");
            await Expect(button).ToBeEnabledAsync();
            await button.ClickAsync();
            var lines = await second.WaitForLinesAsync(l => l == "BUTTON CLICK 2 from 127.0.0.1");
            Assert.Equal(["CONNECT 127.0.0.1", "BUTTON CLICK 2 from 127.0.0.1"], lines);
            Assert.Equal(["CONNECT 127.0.0.1", "BUTTON CLICK 1 from 127.0.0.1"], first.Lines.Items);
            Assert.Empty(pageErrors);
            Assert.Empty(second.Errors);
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }
}
