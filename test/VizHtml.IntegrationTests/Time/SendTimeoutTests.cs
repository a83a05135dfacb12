using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Infrastructure;
using VizHtml.IntegrationTests.Sockets;

namespace VizHtml.IntegrationTests.Time;

/// <summary>A client that stops reading is cut off once one write has stalled for <see cref="VizHtmlOptions.SendTimeout"/>, on a fake clock.</summary>
public sealed class SendTimeoutTests
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(30);
    private static readonly string Chunk = new('x', 16 * 1024);

    [Theory, OnOwnHosts]
    public async Task AClientThatStopsReadingIsDisconnectedAsASlowConsumerOnceAWriteStalledForTheSendTimeout(TestHost host)
    {
        var clock = new FakeTimeProvider();
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.TimeProvider = clock;
            o.SendTimeout = SendTimeout;

            // Queue bounds out of the way: here only the stalled write may end the connection.
            o.MaxQueuedMessages = 100_000;
            o.MaxQueuedBytes = 1L << 30;
        });
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnConnect(connects.Add);
        test.Server.OnDisconnect(disconnects.Add);
        using var stalled = await RawTcp.UpgradeAsync(test.Server.Port, receiveBufferBytes: 4096);
        var serverSide = (await connects.WaitForCountAsync(1))[0].Client;

        // 16 MiB, four times what the server's socket buffer can grow to: the client never reads, so a write stalls.
        // Every write starts at the clock's current time, so none can time out before SendTimeout from here.
        for (var i = 0; i < 1024; i++)
        {
            Assert.Equal(1, test.Server.SendAll("chunk", Chunk));
        }

        // Write timeouts fire inside Advance, and record the reason there: not yet.
        clock.Advance(SendTimeout - TimeSpan.FromMilliseconds(1));
        Assert.NotEqual(VizDisconnectReason.SlowConsumer, serverSide.Session.Connection.CloseReason);
        Assert.True(serverSide.IsConnected);

        // The write stalled at some moment the test cannot see (usually before the Advance above): step on until it times out.
        var gone = disconnects.WaitForCountAsync(1);
        await clock.AdvanceUntilAsync(gone, TimeSpan.FromSeconds(1), limit: 2 * SendTimeout);

        var e = (await gone)[0];
        Assert.Same(serverSide, e.Client);
        Assert.Equal(VizDisconnectReason.SlowConsumer, e.Reason);
        Assert.Equal("send timed out", e.CloseDescription);
        Assert.False(serverSide.IsConnected);
    }
}
