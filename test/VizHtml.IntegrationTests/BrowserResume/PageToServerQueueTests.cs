using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserResume;

/// <summary>
/// Page to server over protocol version 2 in Chromium: events sent while connected, cut off or reconnecting arrive
/// once and in order; the offline queue's bound drops the oldest and says so.
/// </summary>
public sealed class PageToServerQueueTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Theory]
    [OnEveryHost]
    public async Task EveryEventThePageSendsReachesTheHandlerOnceAndInOrderIncludingThoseSentWhileCutOff(TestHost host)
    {
        const int Count = 200;
        const int Cuts = 2;
        await using var server = await TestServer.StartAsync(host);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        var received = new EventLog<int>();
        server.Server.OnMessage("m", e => received.Add((int)e.Data));
        await using var proxy = new Faults.FaultProxy(server.Server.Port);
        await using var context = await browser.NewContextAsync();
        var page = await ResumePage.OpenAsync(context, proxy.HttpBase, ResumePage.Reconnecting);
        await connects.WaitForCountAsync(1);

        await ResumePage.EvalAsync<object?>(page, "sendNumbers(arg, 8)", Count);
        for (var cut = 1; cut <= Cuts; cut++)
        {
            await ResumePage.WaitAsync(page, "window.sent >= arg", cut * Count / (Cuts + 1));
            proxy.GoDown();
            await ResumePage.WaitAsync(page, "!socket.isConnected()");

            // Sent while the page knows it is cut off: queued, not dropped.
            var mark = await ResumePage.EvalAsync<int>(page, "window.sent");
            await ResumePage.WaitAsync(page, "window.sent >= arg", Math.Min(mark + 10, Count));
            proxy.GoUp();
            await connects.WaitForCountAsync(cut + 1);
        }

        var all = await received.WaitForAsync(items => items.Contains(Count));

        Assert.Equal(Enumerable.Range(1, Count), all);
        Assert.Equal(0, await ResumePage.EvalAsync<int>(page, "window.refused"));
        Assert.All(connects.Items.Skip(1), e => Assert.True(e.Resumed && e.Recovered, "Every reconnect resumes the session."));
    }

    [Theory]
    [OnEveryHost]
    public async Task AFullOfflineQueueDropsTheOldestFiresOverflowWithTheCountAndDeliversTheNewest(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        var received = new EventLog<int>();
        server.Server.OnMessage("m", e => received.Add((int)e.Data));
        var volatiles = new EventLog<VizMessageEvent>();
        server.Server.OnMessage("v", volatiles.Add);
        await using var proxy = new Faults.FaultProxy(server.Server.Port);
        await using var context = await browser.NewContextAsync();
        var options = new { autoReconnect = true, reconnect = new { initialDelayMs = 50, maxDelayMs = 200 }, offlineQueue = new { maxMessages = 3 } };
        var page = await ResumePage.OpenAsync(context, proxy.HttpBase, options);
        await connects.WaitForCountAsync(1);

        proxy.GoDown();
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        var sent = await ResumePage.EvalAsync<bool[]>(
            page,
            """
            (() => {
              const results = [];
              for (let i = 1; i <= 10; i++) results.push(socket.send('m', i));
              results.push(socket.send('v', 'gone', { volatile: true }));
              return results;
            })()
            """);
        Assert.Equal([.. Enumerable.Repeat(true, 10), false], sent);
        await ResumePage.WaitAsync(page, "window.connection.some(e => e.event === 'overflow')");

        proxy.GoUp();
        await ResumePage.WaitAsync(page, "socket.isConnected()");
        Assert.True(await ResumePage.EvalAsync<bool>(page, "socket.send('m', 11)"));
        var all = await received.WaitForAsync(items => items.Contains(11));

        Assert.Equal([8, 9, 10, 11], all);
        Assert.Equal(["open", "close", "overflow:7", "open"], await ResumePage.ConnectionEventsAsync(page));
        Assert.Empty(volatiles.Items);
    }
}
