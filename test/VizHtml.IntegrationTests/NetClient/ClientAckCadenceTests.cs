using System.Collections.Concurrent;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.NetClient;

/// <summary>
/// The .NET client acknowledges as vizhtml.js does (docs/protocol.md): after 128 events, 256 KB of frames, or about a
/// second after its last acknowledgement. Seen from the server: what its replay buffer still holds for the client.
/// </summary>
public sealed class ClientAckCadenceTests
{
    [Fact]
    public async Task AFewSmallEventsAreAcknowledgedAboutASecondAfterTheLastAcknowledgementNotAtOnce()
    {
        var (server, client, session, received) = await StartAsync();
        await using var _ = server;
        await using var __ = client;

        // An acknowledgement has just been made (StartAsync's), so the next may come only a second later.
        for (var i = 1; i <= 50; i++)
        {
            server.Server.SendAll("n", i);
        }

        await TestServer.WaitUntilAsync(() => received.Count == 51);
        await Task.Delay(500);

        // At the old cadence (a check every 250 ms) they were acknowledged by now; 50 events and 2 KB are below both bounds.
        Assert.Equal(50, session.ReplayState().Count);
        await TestServer.WaitUntilAsync(() => session.ReplayState() == (0, 51));
    }

    [Fact]
    public async Task LargeEventsAreAcknowledgedOnceTheyPass256KB()
    {
        var (server, client, session, received) = await StartAsync();
        await using var _ = server;
        await using var __ = client;

        // Five 64 KB events: the fourth passes 256 KB and is acknowledged on arrival, with the three before it.
        var payload = new string('x', 64 * 1024);
        for (var i = 1; i <= 5; i++)
        {
            server.Server.SendAll("image", payload);
            await TestServer.WaitUntilAsync(() => received.Count == i + 1);
        }

        await TestServer.WaitUntilAsync(() => session.ReplayState().Acknowledged >= 5);
        Assert.Equal((1, 5L), session.ReplayState());
    }

    /// <summary>A server, a client connected to it, its session there, and the events it received; one event sent and acknowledged.</summary>
    private static async Task<(TestServer Server, VizHtmlClient Client, Sessions.Session Session, ConcurrentQueue<string> Received)> StartAsync()
    {
        var server = await TestServer.StartAsync(TestHost.Embedded);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        var client = new VizHtmlClient(server.HttpBase);
        var received = new ConcurrentQueue<string>();
        client.OnMessage(e => received.Enqueue(e.Event));
        await client.StartAsync().WaitAsync(TestServer.Timeout);
        var session = (await connects.WaitForCountAsync(1))[0].Client.Session;

        // One event, acknowledged: the tests start right after an acknowledgement.
        server.Server.SendAll("n", 0);
        await TestServer.WaitUntilAsync(() => received.Count == 1 && session.ReplayState().Count == 0);
        return (server, client, session, received);
    }
}
