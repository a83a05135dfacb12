using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Sockets;

public sealed class DeadPeerTests
{
    [Theory]
    [OnEveryHost]
    public async Task APeerThatStopsAnsweringPingsIsDroppedWithinIntervalPlusTimeout(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.KeepAliveInterval = TimeSpan.FromSeconds(1);
            o.KeepAliveTimeout = TimeSpan.FromSeconds(1);
        });
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);

        // A raw socket never answers the server's pings: to the server it is a peer that vanished without FIN or RST.
        using var silent = await RawTcp.UpgradeAsync(test.Server.Port);
        await connects.WaitForCountAsync(1);
        var started = DateTime.UtcNow;

        var gone = (await disconnects.WaitForCountAsync(1, TimeSpan.FromSeconds(15)))[0];
        Assert.Equal(VizDisconnectReason.ConnectionLost, gone.Reason);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), $"took {DateTime.UtcNow - started}");
        Assert.Equal(0, test.Server.ClientCount);
    }
}
