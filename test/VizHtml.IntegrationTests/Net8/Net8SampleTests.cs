using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Faults;
using VizHtml.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.Net8;

/// <summary>The WebSocket sample on the .NET 8 runtime (VizHtml's .NET Standard build, the standalone host), in Chromium.</summary>
public sealed class Net8SampleTests(Net8SampleFixture sample, BrowserFixture browser) : IClassFixture<Net8SampleFixture>, IClassFixture<BrowserFixture>
{
    [Fact]
    public void TheSampleIsPublishedWithTheDotNet8RuntimeOfItsOwn()
    {
        Assert.StartsWith("8.0.", sample.RuntimeVersion, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(sample.Directory, "libcoreclr.so")), "self-contained: the runtime is beside the program");
        Assert.True(File.Exists(Path.Combine(sample.Directory, "VizHtml.dll")));
        Assert.False(File.Exists(Path.Combine(sample.Directory, "Microsoft.AspNetCore.dll")), "no ASP.NET Core on .NET 8");
    }

    [Fact]
    public async Task OnDotNet8TheSamplePageConnectsShowsTheClockAndReportsClicksWithTheAddress()
    {
        await using var program = await sample.StartAsync();
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageErrors = PageDiagnostics.CollectPageErrors(page);

        await SamplePage.OpenAndSeeTheClockTickAsync(page, $"http://127.0.0.1:{program.Port}/vizhtml/websocket");
        await SamplePage.ClickAsync(page, 3);

        await program.Lines.WaitForAsync(l => l.Count(x => x.StartsWith("BUTTON CLICK", StringComparison.Ordinal)) == 3);
        Assert.Equal(
            ["CONNECT 127.0.0.1", "BUTTON CLICK 1 from 127.0.0.1", "BUTTON CLICK 2 from 127.0.0.1", "BUTTON CLICK 3 from 127.0.0.1"],
            program.Lines.Items.Where(l => l.StartsWith("CONNECT", StringComparison.Ordinal) || l.StartsWith("BUTTON", StringComparison.Ordinal)));
        Assert.Empty(pageErrors);
    }

    /// <summary>
    /// The link is cut under the page: it resumes its session (the same id), the clicks it makes while cut off arrive once
    /// and in order, and the clock goes on.
    /// </summary>
    [Fact]
    public async Task OnDotNet8ThePageResumesItsSessionAfterTheLinkIsCutAndItsClicksArriveOnceInOrder()
    {
        await using var program = await sample.StartAsync();
        await using var proxy = new FaultProxy(program.Port);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);

        await page.GotoAsync($"{proxy.HttpBase}vizhtml/websocket/");
        await Expect(page.Locator("#status")).ToHaveTextAsync("connected");
        await page.WaitForFunctionAsync("() => socket.id !== null", null, SamplePage.Poll);
        var id = await page.EvaluateAsync<string>("() => socket.id");
        await page.ClickAsync("#my_button");
        await program.Lines.WaitForAsync(l => l.Contains("BUTTON CLICK 1 from 127.0.0.1"));

        // Cut every link and keep new ones out while the page clicks twice: the clicks wait in its queue.
        proxy.RefuseNewConnections = true;
        Assert.True(proxy.CutAll() > 0);

        // The page disables its button when it sees the close; enabling it again before then would be undone under the click.
        await Expect(page.Locator("#status")).ToHaveTextAsync("waiting for connection");
        await page.EvaluateAsync("() => { document.getElementById('my_button').disabled = false; }");
        await page.ClickAsync("#my_button");
        await page.EvaluateAsync("() => { document.getElementById('my_button').disabled = false; }");
        await page.ClickAsync("#my_button");
        proxy.GoUp();

        await program.Lines.WaitForAsync(l => l.Contains("BUTTON CLICK 3 from 127.0.0.1"));
        await Expect(page.Locator("#status")).ToHaveTextAsync("connected");
        Assert.Equal(id, await page.EvaluateAsync<string>("() => socket.id"));

        // The program sees the connection go and the same client come back (its disconnect event allows a resume).
        Assert.Equal(
            ["CONNECT 127.0.0.1", "BUTTON CLICK 1 from 127.0.0.1", "DISCONNECT 127.0.0.1", "CONNECT 127.0.0.1", "BUTTON CLICK 2 from 127.0.0.1", "BUTTON CLICK 3 from 127.0.0.1"],
            program.Lines.Items.Where(l => l.StartsWith("CONNECT", StringComparison.Ordinal) || l.StartsWith("DISCONNECT", StringComparison.Ordinal) || l.StartsWith("BUTTON", StringComparison.Ordinal)));

        var before = await page.InputValueAsync("#script_time");
        await page.WaitForFunctionAsync("v => document.querySelector('#script_time').value !== v", before, SamplePage.Poll);
    }
}
