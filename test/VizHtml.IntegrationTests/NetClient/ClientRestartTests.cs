using VizHtml.IntegrationTests.Faults;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.NetClient;

/// <summary>
/// Sends a <see cref="VizHtmlClient"/> made, or had not seen acknowledged, before the server restarted (a new run: another
/// epoch) are dropped and counted by default, delivered with <see cref="VizHtmlClientOptions.KeepPendingAcrossRestart"/>;
/// a session the same run forgot still gets them.
/// </summary>
public sealed class ClientRestartTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromMilliseconds(20);

    [Theory, OnOwnHosts]
    public async Task SendsQueuedWhileTheServerRestartedAreDroppedAndTheConnectEventCountsThem(TestHost host)
    {
        await using var first = await TestServer.StartAsync(host);
        var port = first.Server.Port;
        await using var client = new VizHtmlClient(first.HttpBase, Options());
        var changes = new EventLog<VizClientConnectionEvent>();
        client.OnConnectionChanged(changes.Add);
        await client.StartAsync().WaitAsync(TestServer.Timeout);

        await first.DisposeAsync();
        await changes.WaitForAsync(items => items.Any(e => !e.Connected));
        for (var i = 1; i <= 3; i++)
        {
            client.Send("button_click", i);
        }

        await using var second = await TestServer.StartAsync(host, o => o.Port = port);
        var clicks = Clicks(second);
        var back = (await changes.WaitForAsync(items => items.Count(e => e.Connected) == 2)).Last(e => e.Connected);
        client.Send("button_click", 4);

        Assert.Equal([4], await clicks.WaitForAsync(items => items.Contains(4)));
        Assert.True(back.Restarted);
        Assert.False(back.Resumed);
        Assert.Equal(3, back.Dropped);
        Assert.Equal(0, client.DroppedSends);
    }

    [Theory, OnOwnHosts]
    public async Task SendsNotAcknowledgedWhenTheServerDiedAreDroppedAndCountedToo(TestHost host)
    {
        await using var first = await TestServer.StartAsync(host);
        var port = first.Server.Port;
        var firstClicks = Clicks(first);
        await using var proxy = new FaultProxy(port);
        await using var client = new VizHtmlClient(proxy.HttpBase, Options());
        var changes = new EventLog<VizClientConnectionEvent>();
        client.OnConnectionChanged(changes.Add);
        await client.StartAsync().WaitAsync(TestServer.Timeout);

        // Sent on an open socket, but held on the way: the server dies without seeing or acknowledging them.
        proxy.Stall();
        client.Send("button_click", 1);
        client.Send("button_click", 2);
        proxy.GoDown();
        proxy.Resume();
        await changes.WaitForAsync(items => items.Any(e => !e.Connected));
        client.Send("button_click", 3);
        await first.DisposeAsync();
        await using var second = await TestServer.StartAsync(host, o => o.Port = port);
        var clicks = Clicks(second);
        proxy.GoUp();
        var back = (await changes.WaitForAsync(items => items.Count(e => e.Connected) == 2)).Last(e => e.Connected);
        client.Send("button_click", 4);

        Assert.Equal([4], await clicks.WaitForAsync(items => items.Contains(4)));
        Assert.Empty(firstClicks.Items);
        Assert.True(back.Restarted);
        Assert.Equal(3, back.Dropped);
    }

    [Theory, OnOwnHosts]
    public async Task WithKeepPendingAcrossRestartSendsQueuedWhileTheServerRestartedReachTheNewServerInOrder(TestHost host)
    {
        await using var first = await TestServer.StartAsync(host);
        var port = first.Server.Port;
        var options = Options();
        options.KeepPendingAcrossRestart = true;
        await using var client = new VizHtmlClient(first.HttpBase, options);
        var changes = new EventLog<VizClientConnectionEvent>();
        client.OnConnectionChanged(changes.Add);
        await client.StartAsync().WaitAsync(TestServer.Timeout);

        await first.DisposeAsync();
        await changes.WaitForAsync(items => items.Any(e => !e.Connected));
        for (var i = 1; i <= 3; i++)
        {
            client.Send("button_click", i);
        }

        await using var second = await TestServer.StartAsync(host, o => o.Port = port);
        var clicks = Clicks(second);
        var back = (await changes.WaitForAsync(items => items.Count(e => e.Connected) == 2)).Last(e => e.Connected);
        client.Send("button_click", 4);

        Assert.Equal([1, 2, 3, 4], await clicks.WaitForAsync(items => items.Contains(4)));
        Assert.True(back.Restarted);
        Assert.Equal(0, back.Dropped);
    }

    [Theory, OnOwnHosts]
    public async Task SendsQueuedWhileTheSameServerForgotTheSessionAreStillDelivered(TestHost host)
    {
        // MaxAwaySessions = 0: a lost connection ends its session at once, yet the program is the same run.
        await using var server = await TestServer.StartAsync(host, o => o.MaxAwaySessions = 0);
        var clicks = Clicks(server);
        await using var proxy = new FaultProxy(server.Server.Port);
        await using var client = new VizHtmlClient(proxy.HttpBase, Options());
        var changes = new EventLog<VizClientConnectionEvent>();
        client.OnConnectionChanged(changes.Add);
        await client.StartAsync().WaitAsync(TestServer.Timeout);

        proxy.GoDown();
        await changes.WaitForAsync(items => items.Any(e => !e.Connected));
        for (var i = 1; i <= 3; i++)
        {
            client.Send("button_click", i);
        }

        proxy.GoUp();
        var back = (await changes.WaitForAsync(items => items.Count(e => e.Connected) == 2)).Last(e => e.Connected);

        Assert.Equal([1, 2, 3], await clicks.WaitForAsync(items => items.Count >= 3));
        Assert.False(back.Resumed);
        Assert.False(back.Restarted);
        Assert.Equal(0, back.Dropped);
    }

    [Theory, OnOwnHosts]
    public async Task StoppingAndStartingTheSameServerIsANewRunToo(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        await using var client = new VizHtmlClient(server.HttpBase, Options());
        var changes = new EventLog<VizClientConnectionEvent>();
        client.OnConnectionChanged(changes.Add);
        await client.StartAsync().WaitAsync(TestServer.Timeout);
        var clicks = Clicks(server);

        await server.Server.StopAsync().WaitAsync(TestServer.Timeout);
        await changes.WaitForAsync(items => items.Any(e => !e.Connected));
        client.Send("button_click", 1);
        await server.Server.StartAsync().WaitAsync(TestServer.Timeout);
        var back = (await changes.WaitForAsync(items => items.Count(e => e.Connected) == 2)).Last(e => e.Connected);
        client.Send("button_click", 2);

        Assert.Equal([2], await clicks.WaitForAsync(items => items.Contains(2)));
        Assert.True(back.Restarted);
        Assert.Equal(1, back.Dropped);
    }

    private static VizHtmlClientOptions Options() => new() { InitialReconnectDelay = Quick, MaxReconnectDelay = Quick * 5 };

    private static EventLog<int> Clicks(TestServer server)
    {
        var clicks = new EventLog<int>();
        server.Server.OnMessage("button_click", e => clicks.Add((int)e.Data));
        return clicks;
    }
}
