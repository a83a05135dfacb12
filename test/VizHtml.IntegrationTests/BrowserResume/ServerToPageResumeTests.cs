using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserResume;

/// <summary>
/// Server to page over protocol version 2 in Chromium: resume with replay across abrupt connection cuts, resync when
/// the server cannot replay, and the page's own detection of a silent network.
/// </summary>
public sealed class ServerToPageResumeTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Theory]
    [OnEveryHost]
    public async Task EveryEventReachesThePageOnceAndInOrderAcrossAbruptConnectionCuts(TestHost host)
    {
        const int Count = 300;
        const int Cuts = 3;
        await using var server = await TestServer.StartAsync(host);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        server.Server.OnConnect(connects.Add);
        server.Server.OnDisconnect(disconnects.Add);
        await using var proxy = new Faults.FaultProxy(server.Server.Port);
        await using var context = await browser.NewContextAsync();
        var page = await ResumePage.OpenAsync(context, proxy.HttpBase, ResumePage.Reconnecting);
        var client = Assert.Single(await connects.WaitForCountAsync(1)).Client;
        Assert.Equal(client.Id, await ResumePage.EvalAsync<string>(page, "socket.id"));

        // A steady stream that keeps going while the page is cut off, so every cut has events to replay.
        var produced = new EventLog<int>();
        using var stop = new CancellationTokenSource(TestServer.Timeout * 2);
        var producer = Task.Run(
            async () =>
            {
                for (var i = 1; i <= Count; i++)
                {
                    server.Server.SendAll("n", i);
                    produced.Add(i);
                    await Task.Delay(8, stop.Token);
                }
            },
            stop.Token);

        for (var cut = 1; cut <= Cuts; cut++)
        {
            await ResumePage.WaitAsync(page, "window.received.length >= arg", cut * Count / (Cuts + 1));
            proxy.GoDown();
            await disconnects.WaitForCountAsync(cut);
            await ResumePage.WaitAsync(page, "!socket.isConnected()");
            await produced.WaitForCountAsync(Math.Min(produced.Items.Count + 10, Count));
            proxy.GoUp();
            await connects.WaitForCountAsync(cut + 1);
        }

        await producer.WaitAsync(TestServer.Timeout);
        await ResumePage.WaitAsync(page, "window.received.length >= arg", Count);

        Assert.Equal(Enumerable.Range(1, Count), await ResumePage.ReceivedNumbersAsync(page, "n"));
        Assert.True(await ResumePage.EvalAsync<bool>(page, "socket.recovered === true"));
        var connectionEvents = await ResumePage.ConnectionEventsAsync(page);
        Assert.Equal(["open", .. Enumerable.Repeat(new[] { "close", "open" }, Cuts).SelectMany(x => x)], connectionEvents);
        var all = connects.Items;
        Assert.Equal(Cuts + 1, all.Count);
        Assert.False(all[0].Resumed);
        Assert.All(all.Skip(1), e =>
        {
            Assert.True(e.Resumed);
            Assert.True(e.Recovered);
            Assert.Same(client, e.Client);
        });
        Assert.All(disconnects.Items, e =>
        {
            Assert.Equal(VizDisconnectReason.ConnectionLost, e.Reason);
            Assert.True(e.CanResume);
        });
        Assert.Equal(client.Id, await ResumePage.EvalAsync<string>(page, "socket.id"));
    }

    [Theory]
    [OnEveryHost]
    public async Task APageThatMissedMoreThanTheReplayBufferKeepsGetsAResyncWithReasonGap(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host, o => o.ReplayBufferMessages = 5);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        server.Server.OnConnect(connects.Add);
        server.Server.OnDisconnect(disconnects.Add);
        await using var proxy = new Faults.FaultProxy(server.Server.Port);
        await using var context = await browser.NewContextAsync();
        var page = await ResumePage.OpenAsync(context, proxy.HttpBase, ResumePage.Reconnecting);
        var client = Assert.Single(await connects.WaitForCountAsync(1)).Client;

        proxy.GoDown();
        await disconnects.WaitForCountAsync(1);
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        for (var i = 1; i <= 20; i++)
        {
            Assert.True(client.Send("n", i));
        }

        proxy.GoUp();
        var resumed = (await connects.WaitForCountAsync(2))[1];
        await ResumePage.WaitAsync(page, "window.connection.some(e => e.event === 'resync')");

        Assert.True(resumed.Resumed);
        Assert.False(resumed.Recovered);
        Assert.Same(client, resumed.Client);
        Assert.Equal(["open", "close", "open", "resync:gap"], await ResumePage.ConnectionEventsAsync(page));
        Assert.True(await ResumePage.EvalAsync<bool>(page, "socket.recovered === false"));
        Assert.Equal("open", await ResumePage.EvalAsync<string>(page, "window.connection.find(e => e.event === 'resync').state"));

        // Nothing was replayed, and numbering carries on after what the server sent.
        Assert.True(client.Send("n", 21));
        await ResumePage.WaitAsync(page, "window.received.some(e => e.data === 21)");
        var numbers = await ResumePage.ReceivedNumbersAsync(page, "n");
        Assert.Equal([21], numbers);
    }

    [Theory]
    [OnEveryHost]
    public async Task APageThatComesBackToARestartedServerGetsAResyncWithReasonRestartedAndANewSession(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        await using var context = await browser.NewContextAsync();
        var page = await ResumePage.OpenAsync(context, server.HttpBase, ResumePage.Reconnecting);
        var before = Assert.Single(await connects.WaitForCountAsync(1)).Client;
        Assert.True(before.Send("n", 1));
        await ResumePage.WaitAsync(page, "window.received.length >= 1");

        await server.Server.StopAsync().WaitAsync(TestServer.Timeout);
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        await server.Server.StartAsync().WaitAsync(TestServer.Timeout);
        var after = (await connects.WaitForCountAsync(2))[1];
        await ResumePage.WaitAsync(page, "window.connection.some(e => e.event === 'resync')");

        Assert.False(after.Resumed);
        Assert.False(after.Recovered);
        Assert.NotSame(before, after.Client);
        Assert.Equal(["open", "close", "open", "resync:restarted"], await ResumePage.ConnectionEventsAsync(page));
        Assert.True(await ResumePage.EvalAsync<bool>(page, "socket.recovered === false"));
        Assert.Equal(after.Client.Id, await ResumePage.EvalAsync<string>(page, "socket.id"));

        // The new session numbers from 1 again: its first event must not be taken for a duplicate.
        Assert.True(after.Client.Send("n", 2));
        await ResumePage.WaitAsync(page, "window.received.length >= 2");
        var numbers = await ResumePage.ReceivedNumbersAsync(page, "n");
        Assert.Equal([1, 2], numbers);
    }

    [Theory]
    [OnEveryHost]
    public async Task APageWhoseServerFallsSilentClosesWith4000OnceAndReconnectsByItself(TestHost host)
    {
        // Chromium's offline mode keeps the socket open but holds what the server sends: a connection that died
        // without FIN or RST, as the page sees it. One-second heartbeats put the limit at 2.5 s.
        await using var server = await TestServer.StartAsync(host, o => o.HeartbeatInterval = TimeSpan.FromSeconds(1));
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        await using var context = await browser.NewContextAsync();
        var page = await ResumePage.OpenAsync(context, server.HttpBase, ResumePage.Reconnecting);
        await connects.WaitForCountAsync(1);

        var client = (await connects.WaitForCountAsync(1))[0].Client;
        await context.SetOfflineAsync(true);
        client.Send("n", 1);
        client.Send("n", 2);
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        await context.SetOfflineAsync(false);
        await ResumePage.WaitAsync(page, "socket.isConnected()");
        var back = (await connects.WaitForCountAsync(2))[1];

        var closes = await ResumePage.EvalAsync<string[]>(
            page, "window.connection.filter(e => e.event === 'close').map(e => e.code + ' ' + e.reason + ' ' + e.wasClean)");
        Assert.Equal(["4000 server silent false"], closes);
        Assert.Equal(["open", "close", "open"], (await ResumePage.ConnectionEventsAsync(page)).Take(3));

        // The page's 4000 keeps the session: same client, and what was sent while it was silent is replayed.
        Assert.Same(client, back.Client);
        Assert.True(back.Resumed && back.Recovered, $"resumed {back.Resumed}, recovered {back.Recovered}");
        await ResumePage.WaitAsync(page, "window.received.filter(e => e.event === 'n').length >= 2");
        var numbers = await ResumePage.ReceivedNumbersAsync(page, "n");
        Assert.Equal(new[] { 1, 2 }, numbers);
    }
}
