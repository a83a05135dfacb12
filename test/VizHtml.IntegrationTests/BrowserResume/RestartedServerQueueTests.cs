using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserResume;

/// <summary>
/// Events the page sent or queued before the server restarted (a new program run: its <c>$welcome</c> has another
/// epoch) are stale input: by default they are dropped and counted in the page's 'resync' event, with
/// <c>offlineQueue.keepAcrossRestart</c> they are delivered to the new run. A session lost on the same run delivers them.
/// </summary>
public sealed class RestartedServerQueueTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Theory, OnOwnHosts]
    public async Task ClicksQueuedWhileTheServerRestartedAreDroppedAndCountedInTheResyncEvent(TestHost host)
    {
        await using var first = await StartAsync(host, port: 0);
        var port = first.Server.Port;
        await using var context = await browser.NewContextAsync();
        var page = await ResumePage.OpenAsync(context, first.HttpBase, ResumePage.Reconnecting);
        var warnings = PageDiagnostics.CollectConsole(page, "warning");

        await first.DisposeAsync();
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        Assert.All(await SendClicksAsync(page, 1, 3), Assert.True);
        await using var second = await StartAsync(host, port);
        var clicks = Clicks(second);
        await ResumePage.WaitAsync(page, "window.connection.some(e => e.event === 'resync')");
        Assert.True(await ResumePage.EvalAsync<bool>(page, "socket.send('button_click', 4)"));

        Assert.Equal([4], await clicks.WaitForAsync(items => items.Contains(4)));
        Assert.Equal(["open", "close", "open", "resync:restarted"], await ResumePage.ConnectionEventsAsync(page));
        Assert.Equal(3, await ResumePage.EvalAsync<int>(page, "window.connection.find(e => e.event === 'resync').dropped"));
        Assert.Contains(warnings, w => w.Contains("dropped the 3 ", StringComparison.Ordinal) && w.Contains("restarted", StringComparison.Ordinal));
    }

    [Theory, OnOwnHosts]
    public async Task EventsSentButNotAcknowledgedWhenTheServerDiedAreDroppedAndCountedToo(TestHost host)
    {
        await using var first = await StartAsync(host, port: 0);
        var port = first.Server.Port;
        var firstClicks = Clicks(first);
        await using var proxy = new Faults.FaultProxy(port);
        await using var context = await browser.NewContextAsync();
        var page = await ResumePage.OpenAsync(context, proxy.HttpBase, ResumePage.Reconnecting);

        // Sent on an open socket, but held on the way: the server dies without seeing or acknowledging them.
        proxy.Stall();
        Assert.All(await SendClicksAsync(page, 1, 2), Assert.True);
        proxy.GoDown();
        proxy.Resume();
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        Assert.All(await SendClicksAsync(page, 3, 1), Assert.True);
        await first.DisposeAsync();
        await using var second = await StartAsync(host, port);
        var clicks = Clicks(second);
        proxy.GoUp();
        await ResumePage.WaitAsync(page, "window.connection.some(e => e.event === 'resync')");
        Assert.True(await ResumePage.EvalAsync<bool>(page, "socket.send('button_click', 4)"));

        Assert.Equal([4], await clicks.WaitForAsync(items => items.Contains(4)));
        Assert.Empty(firstClicks.Items);
        Assert.Equal(3, await ResumePage.EvalAsync<int>(page, "window.connection.find(e => e.event === 'resync').dropped"));
    }

    [Theory, OnOwnHosts]
    public async Task WithKeepAcrossRestartClicksQueuedWhileTheServerRestartedReachTheNewServerInOrder(TestHost host)
    {
        await using var first = await StartAsync(host, port: 0);
        var port = first.Server.Port;
        await using var context = await browser.NewContextAsync();
        var options = new { autoReconnect = true, reconnect = new { initialDelayMs = 50, maxDelayMs = 200 }, offlineQueue = new { keepAcrossRestart = true } };
        var page = await ResumePage.OpenAsync(context, first.HttpBase, options);

        await first.DisposeAsync();
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        Assert.All(await SendClicksAsync(page, 1, 3), Assert.True);
        await using var second = await StartAsync(host, port);
        var clicks = Clicks(second);
        await ResumePage.WaitAsync(page, "window.connection.some(e => e.event === 'resync')");
        Assert.True(await ResumePage.EvalAsync<bool>(page, "socket.send('button_click', 4)"));

        Assert.Equal([1, 2, 3, 4], await clicks.WaitForAsync(items => items.Contains(4)));
        Assert.Equal(["open", "close", "open", "resync:restarted"], await ResumePage.ConnectionEventsAsync(page));
        Assert.Equal(0, await ResumePage.EvalAsync<int>(page, "window.connection.find(e => e.event === 'resync').dropped"));
    }

    [Theory, OnOwnHosts]
    public async Task ClicksQueuedWhileTheSameServerForgotTheSessionAreStillDelivered(TestHost host)
    {
        // MaxAwaySessions = 0: a lost connection ends its session at once, yet the program is the same run.
        await using var server = await TestServer.StartAsync(host, o => o.MaxAwaySessions = 0);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var clicks = Clicks(server);
        await using var proxy = new Faults.FaultProxy(server.Server.Port);
        await using var context = await browser.NewContextAsync();
        var page = await ResumePage.OpenAsync(context, proxy.HttpBase, ResumePage.Reconnecting);

        proxy.GoDown();
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        Assert.All(await SendClicksAsync(page, 1, 3), Assert.True);
        proxy.GoUp();
        await ResumePage.WaitAsync(page, "window.connection.some(e => e.event === 'resync')");

        Assert.Equal([1, 2, 3], await clicks.WaitForAsync(items => items.Count >= 3));
        Assert.Equal(["open", "close", "open", "resync:restarted"], await ResumePage.ConnectionEventsAsync(page));
        Assert.Equal(0, await ResumePage.EvalAsync<int>(page, "window.connection.find(e => e.event === 'resync').dropped"));
    }

    /// <summary>A server of its own serving the resume page on <paramref name="port"/> (0: any): a new program run each time.</summary>
    private static async Task<TestServer> StartAsync(TestHost host, int port)
    {
        var server = await TestServer.StartAsync(host, o => o.Port = port);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        return server;
    }

    private static EventLog<int> Clicks(TestServer server)
    {
        var clicks = new EventLog<int>();
        server.Server.OnMessage("button_click", e => clicks.Add((int)e.Data));
        return clicks;
    }

    /// <summary>Sends <c>button_click</c> with <paramref name="from"/>, from + 1, ... (<paramref name="count"/> of them); what each send() returned.</summary>
    private static Task<bool[]> SendClicksAsync(IPage page, int from, int count) =>
        ResumePage.EvalAsync<bool[]>(page, "Array.from({ length: arg[1] }, (_, i) => socket.send('button_click', arg[0] + i))", new[] { from, count });
}
