using System.Net.WebSockets;
using System.Text.Json.Nodes;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>One client stops reading; what happens to it depends on the delivery class, and nobody else notices.</summary>
public sealed class SlowConsumerTests
{
    private static readonly string Chunk = new('x', 16 * 1024);

    private static void SmallQueues(VizHtmlOptions o)
    {
        o.MaxQueuedMessages = 64;
        o.MaxQueuedBytes = 256 * 1024;
        o.CloseTimeout = TimeSpan.FromSeconds(2);
    }

    [Theory]
    [OnEveryHost]
    public async Task ReliableOverflowDisconnectsOnlyTheStalledClientAndKeepsItsQueueBounded(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, SmallQueues);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var (good, _) = await test.ConnectAsync();
        var (stalled, stalledServerSide) = await test.ConnectAsync();
        using var _g = good;
        using var _s = stalled;

        const int Messages = 3000;
        var progress = new int[1];
        var reading = ReadAllAsync(good, Messages, progress);
        long maxQueuedBytes = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        for (var i = 0; i < Messages; i++)
        {
            // The producer runs at the pace of the reading client (as a 60 Hz host would), never at the stalled one's.
            while (i - Volatile.Read(ref progress[0]) > 4 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1);
            }

            test.Server.SendAll("chunk", new { i, pad = Chunk });
            maxQueuedBytes = Math.Max(maxQueuedBytes, stalledServerSide.Session.Connection.QueuedBytes);
        }

        Assert.True(DateTime.UtcNow < deadline, $"the reading client stalled at {Volatile.Read(ref progress[0])} ({reading.Exception?.InnerException?.Message}), state {good.Socket.State} {good.Socket.CloseStatus} {disconnects.Items.Count}");
        Assert.Equal(Enumerable.Range(0, Messages), await reading.WaitAsync(TimeSpan.FromSeconds(60)));
        var gone = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Same(stalledServerSide, gone.Client);
        Assert.Equal(VizDisconnectReason.SlowConsumer, gone.Reason);
        Assert.True(maxQueuedBytes <= (256 * 1024) + Chunk.Length + 64, $"queue reached {maxQueuedBytes} bytes");
        Assert.Equal(1, test.Server.ClientCount);
    }

    [Theory]
    [OnEveryHost]
    public async Task StalledClientThatResumesReadingIsToldWhyWith4008(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            SmallQueues(o);
            o.CloseTimeout = TimeSpan.FromSeconds(10);
        });
        var (stalled, _) = await test.ConnectAsync();
        using var _s = stalled;

        // Broadcast until the stalled client is no longer among the recipients: its queue overflowed.
        var sent = 0;
        while (test.Server.SendAll("chunk", Chunk) == 1)
        {
            Assert.True(++sent < 100_000, "the queue never overflowed");
        }

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable + 3007, await stalled.ReceiveCloseAsync());
        Assert.Contains("slow", stalled.Socket.CloseStatusDescription, StringComparison.Ordinal);
    }

    [Theory]
    [OnEveryHost]
    public async Task VolatileEventsAreDroppedForAFullQueueAndTheClientStaysConnected(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, SmallQueues);
        test.Server.SetDelivery("frame", VizDelivery.Volatile);
        var (stalled, serverSide) = await test.ConnectAsync();
        using var _s = stalled;

        var dropped = 0;
        for (var i = 0; i < 2000; i++)
        {
            dropped += test.Server.SendAll("frame", new { i, pad = Chunk }) == 0 ? 1 : 0;
        }

        Assert.True(dropped > 0, "nothing was dropped: the client never fell behind");
        Assert.True(serverSide.IsConnected);

        // Once it reads again it gets an increasing subsequence, then fresh events, on the same connection.
        var last = -1;
        var seen = 0;
        while (test.Server.Clients.Count == 1 && serverSide.Session.Connection.QueuedMessages > 0 || seen == 0)
        {
            var (_, data) = await stalled.ReceiveAsync();
            var i = data!["i"]!.GetValue<int>();
            Assert.True(i > last);
            last = i;
            seen++;
        }

        test.Server.SendAll("frame", new { i = 5000, pad = "" });
        while (last != 5000)
        {
            last = (await stalled.ReceiveAsync()).Data!["i"]!.GetValue<int>();
        }

        Assert.True(seen < 2000);
        Assert.Equal(WebSocketState.Open, stalled.Socket.State);
    }

    [Theory]
    [OnEveryHost]
    public async Task LatestKeepsOnlyTheNewestPendingValueAndNeverOverflows(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, SmallQueues);
        test.Server.SetDelivery("pose", VizDelivery.Latest);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var (stalled, serverSide) = await test.ConnectAsync();
        using var _s = stalled;

        const int Updates = 5000;
        for (var i = 1; i <= Updates; i++)
        {
            Assert.Equal(1, test.Server.SendAll("pose", new { i, pad = Chunk }));
            // One value may be in flight on the socket while the next waits: never more.
            Assert.True(serverSide.Session.Connection.QueuedMessages <= 2, "latest values piled up");
        }

        var received = new List<int>();
        while (received.Count == 0 || received[^1] != Updates)
        {
            received.Add((await stalled.ReceiveAsync()).Data!["i"]!.GetValue<int>());
        }

        Assert.Equal(received.Order(), received);
        Assert.True(received.Count < Updates, $"all {Updates} values were delivered: nothing was ever coalesced");
        Assert.Empty(disconnects.Items);
    }

    private static async Task<List<int>> ReadAllAsync(RawClient client, int count, int[] progress)
    {
        var seen = new List<int>(count);
        while (seen.Count < count)
        {
            var (_, data) = await client.ReceiveAsync(TimeSpan.FromSeconds(30));
            seen.Add(((JsonObject)data!)["i"]!.GetValue<int>());
            Volatile.Write(ref progress[0], seen.Count);
        }

        return seen;
    }
}

/// <summary>The scenario at scale: a hundred readers and one client that stops reading.</summary>
public sealed class HundredClientsWithOneStalledTests
{
    [Theory]
    [OnEveryHost]
    public async Task AHundredReadersGetEveryBroadcastWhileOneStalledClientIsCutOffWithItsQueueBounded(TestHost host)
    {
        const long QueueBytes = 256 * 1024;
        const int Messages = 480;
        var payload = new string('p', 16 * 1024);
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.MaxQueuedBytes = QueueBytes;
            o.MaxConnectionsPerAddress = 200;
            o.CloseTimeout = TimeSpan.FromSeconds(1);
        });
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        var readers = new List<RawClient>();
        for (var i = 0; i < 100; i++)
        {
            readers.Add(await RawClient.ConnectAsync(test.SocketUri));
        }

        // Connect events of different clients may be handled in any order: the stalled client is the one not among the
        // readers' hundred, whichever place its event took.
        var readersSide = (await connects.WaitForCountAsync(100)).Select(e => e.Client).ToHashSet();
        using var stalled = await RawTcp.UpgradeAsync(test.Server.Port, receiveBufferBytes: 4096);
        var stalledSide = (await connects.WaitForCountAsync(101)).Select(e => e.Client).Single(c => !readersSide.Contains(c));
        var progress = new int[readers.Count];
        var received = readers.Select((r, index) => Task.Run(() => CountAsync(r, Messages, progress, index))).ToArray();
        long maxQueued = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        for (var i = 0; i < Messages; i++)
        {
            // Paced by the slowest reader, as a host sending state at a frame rate would be; never by the stalled client.
            while (i - progress.Min() > 8 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1);
            }

            test.Server.SendAll("tick", new { i, payload });
            maxQueued = Math.Max(maxQueued, stalledSide.Session.Connection.QueuedBytes);
        }

        var counts = await Task.WhenAll(received).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(counts, c => Assert.Equal(Messages, c));
        var gone = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Same(stalledSide, gone.Client);
        Assert.Equal(VizDisconnectReason.SlowConsumer, gone.Reason);
        Assert.True(maxQueued <= QueueBytes + payload.Length + 64, $"the stalled client's queue reached {maxQueued} bytes");
        Assert.Single(disconnects.Items);
        foreach (var reader in readers)
        {
            reader.Dispose();
        }
    }

    /// <summary>Counts messages and checks their order from the number at the front, without parsing the whole payload.</summary>
    private static async Task<int> CountAsync(RawClient client, int expected, int[] progress, int index)
    {
        var buffer = new byte[64 * 1024];
        var prefix = "{\"event\":\"tick\",\"data\":{\"i\":"u8.ToArray();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var next = 0;
        while (next < expected)
        {
            var result = await client.Socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            var first = result.Count;
            while (!result.EndOfMessage)
            {
                result = await client.Socket.ReceiveAsync(buffer.AsMemory(Math.Min(first, 1024)), timeout.Token);
            }

            Assert.True(buffer.AsSpan(0, prefix.Length).SequenceEqual(prefix));
            Assert.True(System.Buffers.Text.Utf8Parser.TryParse(buffer.AsSpan(prefix.Length), out int i, out _));
            Assert.Equal(next, i);
            next++;
            Volatile.Write(ref progress[index], next);
        }

        return next;
    }
}
