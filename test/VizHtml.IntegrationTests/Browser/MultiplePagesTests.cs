using VizHtml.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>Two pages connected at once: broadcasts, private sends and one of them leaving.</summary>
public sealed class MultiplePagesTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Theory]
    [OnEveryHost]
    public async Task BroadcastReachesBothPagesWhileASendToOneClientReachesOnlyThatPage(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var hellos = RecorderPage.Register(server.Server);
        await using var context = await browser.NewContextAsync();
        var (pageA, clientA) = await RecorderPage.OpenAsync(context, server, hellos, "A");
        var (pageB, clientB) = await RecorderPage.OpenAsync(context, server, hellos, "B");

        Assert.NotEqual(clientA.Id, clientB.Id);
        Assert.Equal(2, server.Server.ClientCount);

        Assert.Equal(2, server.Server.SendAll("news", 1));
        Assert.True(clientA.Send("secret", "for A only"));

        // Events to one client arrive in order, so once B has the second broadcast it has had every chance to see
        // the private event sent before it.
        Assert.Equal(2, server.Server.SendAll("news", 2));
        await RecorderPage.WaitForReceivedAsync(pageA, "news", 2);
        await RecorderPage.WaitForReceivedAsync(pageB, "news", 2);

        Assert.Equal(
            """[{"event":"news","data":1},{"event":"secret","data":"for A only"},{"event":"news","data":2}]""",
            await RecorderPage.ReceivedJsonAsync(pageA));
        Assert.Equal(
            """[{"event":"news","data":1},{"event":"news","data":2}]""",
            await RecorderPage.ReceivedJsonAsync(pageB));
    }

    [Theory]
    [OnEveryHost]
    public async Task ClosingOnePageRaisesTheDisconnectOfThatClientOnlyAndLeavesTheOtherConnected(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var hellos = RecorderPage.Register(server.Server);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        server.Server.OnConnect(connects.Add);
        server.Server.OnDisconnect(disconnects.Add);
        await using var context = await browser.NewContextAsync();
        var (pageA, clientA) = await RecorderPage.OpenAsync(context, server, hellos, "A");
        var (pageB, clientB) = await RecorderPage.OpenAsync(context, server, hellos, "B");
        Assert.Equal(2, server.Server.ClientCount);
        var connectedIds = connects.Items.Select(e => e.Client.Id).ToArray();
        Assert.Equal(2, connectedIds.Length);
        Assert.Contains(clientB.Id, connectedIds);

        await pageB.CloseAsync().WaitAsync(TestServer.Timeout);

        var left = Assert.Single(await disconnects.WaitForCountAsync(1));
        Assert.Equal(clientB.Id, left.Client.Id);
        Assert.Same(clientB, left.Client);
        Assert.False(clientB.IsConnected);
        Assert.True(clientA.IsConnected);
        Assert.Equal(1, server.Server.ClientCount);
        Assert.Equal(clientA.Id, Assert.Single(server.Server.Clients).Id);

        // A is still served, and by the time its event arrives no second disconnect has been raised.
        Assert.Equal(1, server.Server.SendAll("news", "after B left"));
        await RecorderPage.WaitForReceivedAsync(pageA, "news", 1);
        await Expect(pageA.Locator("#status")).ToHaveTextAsync("connected");
        Assert.Equal(clientB.Id, Assert.Single(disconnects.Items).Client.Id);
    }
}
