using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Time;

/// <summary>Heartbeats on a quiet version 2 connection, on a fake clock.</summary>
public sealed class HeartbeatTests
{
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Theory, OnOwnHosts]
    public async Task AQuietVersion2ConnectionGetsAHeartbeatAfterTheHeartbeatIntervalAndNotBefore(TestHost host)
    {
        var clock = new FakeTimeProvider();
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.TimeProvider = clock;
            o.HeartbeatInterval = HeartbeatInterval;
        });
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        using var client = await Version2Socket.OpenAsync(test);
        Assert.Equal(5000, (await Version2Socket.HelloAsync(client))["heartbeatMs"]!.GetValue<long>());
        var serverSide = (await connects.WaitForCountAsync(1))[0].Client;

        // A quiet spell starts when a write finishes; SendAsync completes only after the server noted that time.
        Assert.True(await serverSide.SendAsync("start").WaitAsync(TestServer.Timeout));
        Assert.Equal("start", (await client.ReceiveAsync()).Event);

        // The maintenance runs inside Advance, so a heartbeat due by now would already be queued ahead of the probe.
        clock.AdvanceInSteps(HeartbeatInterval - Second, Second);
        Assert.True(await serverSide.SendAsync("probe").WaitAsync(TestServer.Timeout));
        Assert.Equal("probe", (await client.ReceiveAsync()).Event);

        // The probe began a new quiet spell; a whole interval of it brings the heartbeat.
        clock.AdvanceInSteps(HeartbeatInterval, Second);
        Assert.Equal("$heartbeat", (await client.ReceiveAsync()).Event);
    }
}
