using System.Net.WebSockets;
using System.Text.Json.Nodes;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>Protocol version 2 at the wire: sessions, sequence numbers, acknowledgements, resume.</summary>
public sealed class ResumeTests
{
    [Theory]
    [OnEveryHost]
    public async Task AVersion2ClientIsWelcomedAndGetsNumberedEvents(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        using var client = await V2Client.ConnectAsync(test);

        var welcome = await client.HelloAsync(token: null, lastSeq: 0);
        Assert.False(welcome["resumed"]!.GetValue<bool>());
        Assert.False(welcome["recovered"]!.GetValue<bool>());
        var connect = (await connects.WaitForCountAsync(1))[0];
        Assert.Equal(connect.Client.Id, welcome["id"]!.GetValue<string>());
        Assert.False(connect.Resumed);

        for (var i = 1; i <= 3; i++)
        {
            test.Server.SendAll("n", i);
        }

        Assert.Equal([(1L, 1), (2L, 2), (3L, 3)], [await client.ReceiveNumberedAsync(), await client.ReceiveNumberedAsync(), await client.ReceiveNumberedAsync()]);
    }

    [Theory]
    [OnEveryHost]
    public async Task AResumedClientGetsEveryMissedEventOnceInOrderAndKeepsItsIdentity(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnConnect(connects.Add);
        test.Server.OnDisconnect(disconnects.Add);
        using var first = await V2Client.ConnectAsync(test);
        var welcome = await first.HelloAsync(token: null, lastSeq: 0);
        var serverSide = (await connects.WaitForCountAsync(1))[0].Client;
        serverSide.Items["role"] = "operator";

        for (var i = 1; i <= 3; i++)
        {
            test.Server.SendAll("n", i);
        }

        for (var i = 1; i <= 3; i++)
        {
            await first.ReceiveNumberedAsync();
        }

        await first.AckAsync(2);

        // The network drops: no close handshake.
        serverSide.Session.Connection.Abort();
        var lost = (await disconnects.WaitForCountAsync(1))[0];
        Assert.True(lost.CanResume);
        Assert.False(serverSide.IsConnected);
        for (var i = 4; i <= 10; i++)
        {
            Assert.Equal(0, test.Server.SendAll("n", i));
        }

        Assert.True(serverSide.Send("private", 11));

        using var second = await V2Client.ConnectAsync(test);
        var resumed = await second.HelloAsync(welcome["token"]!.GetValue<string>(), lastSeq: 3);
        Assert.True(resumed["resumed"]!.GetValue<bool>());
        Assert.True(resumed["recovered"]!.GetValue<bool>());
        Assert.Equal(serverSide.Id, resumed["id"]!.GetValue<string>());
        Assert.NotEqual(welcome["token"]!.GetValue<string>(), resumed["token"]!.GetValue<string>());

        var replayed = new List<(long, int)>();
        for (var i = 4; i <= 11; i++)
        {
            replayed.Add(await second.ReceiveNumberedAsync());
        }

        Assert.Equal(Enumerable.Range(4, 8).Select(i => ((long)i, i)), replayed);
        var again = (await connects.WaitForCountAsync(2))[1];
        Assert.Same(serverSide, again.Client);
        Assert.True(again.Resumed);
        Assert.True(again.Recovered);
        Assert.Equal("operator", again.Client.Items["role"]);
        Assert.True(serverSide.IsConnected);
        Assert.Equal(1, test.Server.ClientCount);
    }

    [Theory]
    [OnEveryHost]
    public async Task EventsFromTheClientAreDeliveredOnceEvenWhenResent(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var messages = new EventLog<VizMessageEvent>();
        test.Server.OnMessage("m", messages.Add);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        using var first = await V2Client.ConnectAsync(test);
        var welcome = await first.HelloAsync(token: null, lastSeq: 0);
        for (var seq = 1; seq <= 3; seq++)
        {
            await first.SendNumberedAsync("m", seq, seq);
            Assert.Equal(seq, await first.ReceiveAckAsync());
        }

        (await connects.WaitForCountAsync(1))[0].Client.Session.Connection.Abort();
        await TestServer.WaitUntilAsync(() => test.Server.AwayCount == 1);

        using var second = await V2Client.ConnectAsync(test);
        var resumed = await second.HelloAsync(welcome["token"]!.GetValue<string>(), lastSeq: 0);
        Assert.Equal(3, resumed["lastSeq"]!.GetValue<long>());

        // A client that did not see the acks resends what the server already has; only the new one is delivered.
        await second.SendNumberedAsync("m", 2, 2);
        await second.SendNumberedAsync("m", 3, 3);
        await second.SendNumberedAsync("m", 4, 4);

        var all = await messages.WaitForCountAsync(4);
        await second.ReceiveAckAsync();
        Assert.Equal([1, 2, 3, 4], all.Select(e => e.Data.GetInt32()));
        Assert.Equal(4, messages.Items.Count);
    }

    [Theory]
    [OnEveryHost]
    public async Task AGapLongerThanTheReplayBufferResumesWithoutRecovery(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.ReplayBufferMessages = 3);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        using var first = await V2Client.ConnectAsync(test);
        var welcome = await first.HelloAsync(token: null, lastSeq: 0);
        (await connects.WaitForCountAsync(1))[0].Client.Session.Connection.Abort();
        await TestServer.WaitUntilAsync(() => test.Server.AwayCount == 1);
        for (var i = 1; i <= 10; i++)
        {
            test.Server.SendAll("n", i);
        }

        using var second = await V2Client.ConnectAsync(test);
        var resumed = await second.HelloAsync(welcome["token"]!.GetValue<string>(), lastSeq: 0);

        Assert.True(resumed["resumed"]!.GetValue<bool>());
        Assert.False(resumed["recovered"]!.GetValue<bool>());
        Assert.Equal(10, resumed["sentSeq"]!.GetValue<long>());
        var again = (await connects.WaitForCountAsync(2))[1];
        Assert.True(again.Resumed);
        Assert.False(again.Recovered);

        // Nothing stale is replayed; the next event continues the numbering.
        test.Server.SendAll("n", 11);
        Assert.Equal((11L, 11), await second.ReceiveNumberedAsync());
    }

    [Theory]
    [OnEveryHost("forged-token-that-was-never-issued")]
    [OnEveryHost("")]
    public async Task AnUnknownTokenStartsAFreshSession(TestHost host, string token)
    {
        await using var test = await TestServer.StartAsync(host);
        using var client = await V2Client.ConnectAsync(test);
        var welcome = await client.HelloAsync(token, lastSeq: 5);
        Assert.False(welcome["resumed"]!.GetValue<bool>());
        Assert.False(welcome["recovered"]!.GetValue<bool>());
    }

    [Theory]
    [OnEveryHost]
    public async Task ATokenWorksOnceAndACleanCloseEndsTheSession(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        using var first = await V2Client.ConnectAsync(test);
        var token1 = (await first.HelloAsync(null, 0))["token"]!.GetValue<string>();
        (await connects.WaitForCountAsync(1))[0].Client.Session.Connection.Abort();
        await TestServer.WaitUntilAsync(() => test.Server.AwayCount == 1);

        using var second = await V2Client.ConnectAsync(test);
        var token2 = (await second.HelloAsync(token1, 0))["token"]!.GetValue<string>();
        using var thief = await V2Client.ConnectAsync(test);
        Assert.False((await thief.HelloAsync(token1, 0))["resumed"]!.GetValue<bool>());

        await second.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "page closed", CancellationToken.None);
        var closed = await disconnects.WaitForAsync(items => items.Any(e => e.Reason == VizDisconnectReason.ClientClosed));
        Assert.False(closed.Single(e => e.Reason == VizDisconnectReason.ClientClosed).CanResume);
        using var third = await V2Client.ConnectAsync(test);
        Assert.False((await third.HelloAsync(token2, 0))["resumed"]!.GetValue<bool>());
    }

    [Theory]
    [OnEveryHost]
    public async Task AClientThatComesBackBeforeTheServerNoticedReplacesItsOldConnection(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var log = new EventLog<string>();
        test.Server.OnConnect(e => log.Add($"connect resumed={e.Resumed}"));
        test.Server.OnDisconnect(e => log.Add($"disconnect canResume={e.CanResume}"));
        using var first = await V2Client.ConnectAsync(test);
        var token = (await first.HelloAsync(null, 0))["token"]!.GetValue<string>();
        await log.WaitForCountAsync(1);

        // Half-open: the old socket is still up on the server when the client reconnects.
        using var second = await V2Client.ConnectAsync(test);
        Assert.True((await second.HelloAsync(token, 0))["recovered"]!.GetValue<bool>());

        Assert.Equal(["connect resumed=False", "disconnect canResume=True", "connect resumed=True"], await log.WaitForCountAsync(3));
        Assert.Equal(1, test.Server.ClientCount);
        test.Server.SendAll("n", 1);
        Assert.Equal((1L, 1), await second.ReceiveNumberedAsync());
    }

    [Theory]
    [OnEveryHost]
    public async Task AServerRestartEndsEverySession(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var first = await V2Client.ConnectAsync(test);
        var token = (await first.HelloAsync(null, 0))["token"]!.GetValue<string>();
        await test.Server.StopAsync();
        await test.Server.StartAsync();

        using var second = await V2Client.ConnectAsync(test);
        Assert.False((await second.HelloAsync(token, 0))["resumed"]!.GetValue<bool>());
    }

    /// <summary>A raw protocol version 2 client, as vizhtml.js speaks it.</summary>
    private sealed class V2Client : IDisposable
    {
        private V2Client(RawClient raw) => Raw = raw;

        public RawClient Raw { get; }

        public ClientWebSocket Socket => Raw.Socket;

        public static async Task<V2Client> ConnectAsync(TestServer test) =>
            new(await RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2")));

        public async Task<JsonObject> HelloAsync(string? token, long lastSeq)
        {
            await Raw.SendTextAsync(new JsonObject { ["event"] = "$hello", ["data"] = new JsonObject { ["v"] = 2, ["token"] = token, ["lastSeq"] = lastSeq } }.ToJsonString());
            var (name, data) = await Raw.ReceiveAsync();
            Assert.Equal("$welcome", name);
            return (JsonObject)data!;
        }

        public Task AckAsync(long seq) =>
            Raw.SendTextAsync(new JsonObject { ["event"] = "$ack", ["data"] = new JsonObject { ["seq"] = seq } }.ToJsonString());

        public Task SendNumberedAsync(string eventName, long seq, int value) =>
            Raw.SendTextAsync(new JsonObject { ["event"] = eventName, ["data"] = value, ["seq"] = seq }.ToJsonString());

        /// <summary>The next numbered application event as (seq, int data), skipping heartbeats and acks.</summary>
        public async Task<(long Seq, int Value)> ReceiveNumberedAsync()
        {
            while (true)
            {
                var text = await Raw.ReceiveTextAsync() ?? throw new InvalidOperationException("closed");
                var envelope = JsonNode.Parse(text)!.AsObject();
                if (envelope["event"]!.GetValue<string>().StartsWith('$'))
                {
                    continue;
                }

                Assert.StartsWith("{\"seq\":", text, StringComparison.Ordinal);
                return (envelope["seq"]!.GetValue<long>(), envelope["data"]!.GetValue<int>());
            }
        }

        public async Task<long> ReceiveAckAsync()
        {
            while (true)
            {
                var (name, data) = await Raw.ReceiveAsync();
                if (name == "$ack")
                {
                    return data!["seq"]!.GetValue<long>();
                }
            }
        }

        public void Dispose() => Raw.Dispose();
    }
}
