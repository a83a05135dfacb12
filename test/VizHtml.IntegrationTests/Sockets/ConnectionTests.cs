using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Sockets;

public sealed class ConnectionTests
{
    [Theory]
    [OnEveryHost]
    public async Task ConnectAndDisconnectEventsCarryTheSameClientWithItsAddress(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnConnect(connects.Add);
        test.Server.OnDisconnect(disconnects.Add);

        var client = await RawClient.ConnectAsync(test.SocketUri);
        var connected = (await connects.WaitForCountAsync(1))[0].Client;
        Assert.Equal("127.0.0.1", connected.Address);
        Assert.True(connected.IsConnected);

        await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        var disconnect = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Same(connected, disconnect.Client);
        Assert.Equal(VizDisconnectReason.ClientClosed, disconnect.Reason);
        Assert.Equal(1000, disconnect.CloseStatus);
        Assert.False(connected.IsConnected);
        client.Dispose();
    }

    [Theory]
    [OnEveryHost]
    public async Task MessageEventCarriesTheSameClientInstanceAsConnect(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var messages = new EventLog<VizMessageEvent>();
        test.Server.OnMessage("hello", messages.Add);

        var (client, serverSide) = await test.ConnectAsync();
        using var _ = client;
        await client.SendAsync("hello", 1);

        Assert.Same(serverSide, (await messages.WaitForCountAsync(1))[0].Client);
    }

    [Theory]
    [OnEveryHost]
    public async Task SendAllReachesEveryClient(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var (a, _) = await test.ConnectAsync();
        var (b, _) = await test.ConnectAsync();
        var (c, _) = await test.ConnectAsync();

        Assert.Equal(3, test.Server.SendAll("tick", new { n = 7 }));

        foreach (var client in new[] { a, b, c })
        {
            var (name, data) = await client.ReceiveAsync();
            Assert.Equal("tick", name);
            Assert.Equal(7, data!["n"]!.GetValue<int>());
            client.Dispose();
        }
    }

    [Theory]
    [OnEveryHost]
    public async Task SendReachesOnlyThatClient(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var (a, serverA) = await test.ConnectAsync();
        var (b, _) = await test.ConnectAsync();
        using var _a = a;
        using var _b = b;

        Assert.True(serverA.Send("private", "for a"));
        test.Server.SendAll("public", "for all");

        Assert.Equal(("private", "for a"), Flatten(await a.ReceiveAsync()));
        Assert.Equal(("public", "for all"), Flatten(await a.ReceiveAsync()));

        // b's first message is the broadcast: the private one never reached it.
        Assert.Equal(("public", "for all"), Flatten(await b.ReceiveAsync()));
    }

    [Theory]
    [OnEveryHost]
    public async Task ClientCountAndListFollowConnectsAndDisconnectsIncludingTcpResets(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);

        var (a, serverA) = await test.ConnectAsync();
        var (b, serverB) = await test.ConnectAsync();
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        var raw = await RawTcp.UpgradeAsync(test.Server.Port);
        var serverRaw = (await connects.WaitForCountAsync(1))[0].Client;

        Assert.Equal(3, test.Server.ClientCount);
        Assert.Equal(new[] { serverA.Id, serverB.Id, serverRaw.Id }.Order(), test.Server.Clients.Select(c => c.Id).Order());

        var snapshot = test.Server.Clients;
        raw.Reset();
        var lost = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Same(serverRaw, lost.Client);
        Assert.Equal(VizDisconnectReason.ConnectionLost, lost.Reason);
        Assert.Equal(2, test.Server.ClientCount);
        Assert.Equal(3, snapshot.Count);

        await a.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await disconnects.WaitForCountAsync(2);
        Assert.Equal([serverB.Id], test.Server.Clients.Select(c => c.Id));

        b.Socket.Abort();
        await disconnects.WaitForCountAsync(3);
        Assert.Equal(0, test.Server.ClientCount);
        Assert.Empty(test.Server.Clients);
        a.Dispose();
        b.Dispose();
    }

    [Theory]
    [OnEveryHost]
    public async Task EventNamesAreCaseSensitive(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var lower = new EventLog<VizMessageEvent>();
        var upper = new EventLog<VizMessageEvent>();
        var all = new EventLog<VizMessageEvent>();
        test.Server.OnMessage("click", lower.Add);
        test.Server.OnMessage("Click", upper.Add);
        test.Server.OnMessage(all.Add);

        var (client, _) = await test.ConnectAsync();
        using var _c = client;
        await client.SendAsync("Click", 1);
        await client.SendAsync("CLICK", 2);
        await client.SendAsync("click", 3);
        await all.WaitForCountAsync(3);

        Assert.Equal([3], lower.Items.Select(e => e.Data.GetInt32()));
        Assert.Equal([1], upper.Items.Select(e => e.Data.GetInt32()));
    }

    [Theory]
    [OnEveryHost]
    public async Task NestedDataRoundTripsExactlyBothWays(TestHost host)
    {
        const string json = """{"name":"ünïcödé ✓ \"quoted\"","n":-12,"big":9007199254740993,"pi":3.14159,"tiny":1E-7,"ok":true,"nothing":null,"list":[1,[2,[3,[]]],{"deep":{"deeper":[{"x":1.5}]}}],"empty":{}}""";
        await using var test = await TestServer.StartAsync(host);
        var messages = new EventLog<VizMessageEvent>();
        test.Server.OnMessage("echo", e =>
        {
            messages.Add(e);
            e.Client.Send("echo", e.Data);
        });

        var (client, _) = await test.ConnectAsync();
        using var _c = client;
        await client.SendTextAsync($$"""{"event":"echo","data":{{json}}}""");

        var received = (await messages.WaitForCountAsync(1))[0].Data;
        Assert.Equal(JsonNode.Parse(json)!.ToJsonString(), received.ToJson());
        Assert.Equal(9007199254740993L, received.GetInt64("big"));

        var (name, echoed) = await client.ReceiveAsync();
        Assert.Equal("echo", name);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), echoed), echoed?.ToJsonString());
    }

    [Theory]
    [OnEveryHost]
    public async Task ThrowingHandlerLeavesTheConnectionAndOtherHandlersWorking(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var after = new EventLog<VizMessageEvent>();
        test.Server.OnMessage("boom", _ => throw new InvalidOperationException("handler bug"));
        test.Server.OnMessage("boom", after.Add);
        test.Server.OnMessage("ping", e => e.Client.Send("pong", e.Data));

        var (client, serverSide) = await test.ConnectAsync();
        using var _c = client;
        await client.SendAsync("boom", 1);
        await after.WaitForCountAsync(1);

        await client.SendAsync("ping", 2);
        Assert.Equal(("pong", "2"), Flatten(await client.ReceiveAsync()));
        Assert.True(serverSide.IsConnected);
        Assert.Equal(WebSocketState.Open, client.Socket.State);
    }

    [Theory]
    [OnEveryHost]
    public async Task ThrowingConnectHandlerDoesNotStopTheConnection(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.OnConnect(_ => throw new InvalidOperationException("connect handler bug"));
        test.Server.OnMessage("ping", e => e.Client.Send("pong", e.Data));

        var (client, _) = await test.ConnectAsync();
        using var _c = client;
        await client.SendAsync("ping", "x");
        Assert.Equal(("pong", "x"), Flatten(await client.ReceiveAsync()));
    }

    [Theory]
    [OnEveryHost("not json at all", "invalid_json")]
    [OnEveryHost("{\"event\": \"x\", ", "invalid_json")]
    [OnEveryHost("[1, 2, 3]", "invalid_envelope")]
    [OnEveryHost("\"just a string\"", "invalid_envelope")]
    [OnEveryHost("{\"data\": 1}", "invalid_envelope")]
    [OnEveryHost("{\"event\": 5, \"data\": 1}", "invalid_envelope")]
    [OnEveryHost("{\"event\": \"\", \"data\": 1}", "invalid_event_name")]
    [OnEveryHost("{\"event\": \"$resume\", \"data\": 1}", "invalid_event_name")]
    [OnEveryHost("{\"event\": \"a\", \"data\": {\"k\": 1, \"k\": 2}}", "invalid_json")]
    public async Task NonEnvelopeFrameGetsAnErrorEventAndTheConnectionStaysOpen(TestHost host, string frame, string expectedCode)
    {
        await using var test = await TestServer.StartAsync(host);
        var handled = new EventLog<VizMessageEvent>();
        test.Server.OnMessage(handled.Add);
        var (client, serverSide) = await test.ConnectAsync();
        var (other, _) = await test.ConnectAsync();
        using var _c = client;
        using var _o = other;

        await client.SendTextAsync(frame);
        var (name, data) = await client.ReceiveAsync();
        Assert.Equal("$error", name);
        Assert.Equal(expectedCode, data!["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(data["message"]!.GetValue<string>()));

        // The sender and everyone else carry on.
        await client.SendAsync("after", 1);
        Assert.Equal("after", (await handled.WaitForCountAsync(1))[0].Event);
        test.Server.SendAll("still", "here");
        Assert.Equal(("still", "here"), Flatten(await client.ReceiveAsync()));
        Assert.Equal(("still", "here"), Flatten(await other.ReceiveAsync()));
        Assert.True(serverSide.IsConnected);
    }

    [Theory]
    [OnEveryHost]
    public async Task TooDeeplyNestedJsonGetsAnErrorEvent(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxJsonDepth = 8);
        var (client, _) = await test.ConnectAsync();
        using var _c = client;

        await client.SendTextAsync("{\"event\":\"deep\",\"data\":" + new string('[', 20) + new string(']', 20) + "}");
        var (name, data) = await client.ReceiveAsync();
        Assert.Equal("$error", name);
        Assert.Equal("invalid_json", data!["code"]!.GetValue<string>());
    }

    [Theory]
    [OnEveryHost]
    public async Task BinaryFrameClosesTheConnectionWith1003(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var (client, _) = await test.ConnectAsync();
        var (other, _) = await test.ConnectAsync();
        using var _c = client;
        using var _o = other;

        await client.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await client.ReceiveCloseAsync());
        var e = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Equal(VizDisconnectReason.ProtocolViolation, e.Reason);
        Assert.Equal(1003, e.CloseStatus);

        test.Server.SendAll("still", "here");
        Assert.Equal(("still", "here"), Flatten(await other.ReceiveAsync()));
    }

    [Theory]
    [OnEveryHost]
    public async Task OversizedMessageClosesWith1009EvenWhenFragmented(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxMessageBytes = 4096);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var (client, _) = await test.ConnectAsync();
        using var _c = client;

        // Three 2000-byte fragments: each is small, together they pass the limit.
        var fragment = Encoding.UTF8.GetBytes(new string('a', 2000));
        await client.Socket.SendAsync(fragment, WebSocketMessageType.Text, false, CancellationToken.None);
        await client.Socket.SendAsync(fragment, WebSocketMessageType.Text, false, CancellationToken.None);
        await client.Socket.SendAsync(fragment, WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await client.ReceiveCloseAsync());
        Assert.Equal(1009, (await disconnects.WaitForCountAsync(1))[0].CloseStatus);
    }

    [Theory]
    [OnEveryHost]
    public async Task MessageJustUnderTheLimitIsAccepted(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxMessageBytes = 8192);
        var messages = new EventLog<VizMessageEvent>();
        test.Server.OnMessage("big", messages.Add);
        var (client, _) = await test.ConnectAsync();
        using var _c = client;

        var text = new string('x', 8192 - """{"event":"big","data":""}""".Length);
        await client.SendTextAsync($$"""{"event":"big","data":"{{text}}"}""");
        Assert.Equal(text.Length, (await messages.WaitForCountAsync(1))[0].Data.GetString().Length);
    }

    [Theory]
    [OnEveryHost]
    public async Task InvalidUtf8ClosesTheConnectionWith1007(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        using var raw = await RawTcp.UpgradeAsync(test.Server.Port);
        var (other, _) = await test.ConnectAsync();
        using var _o = other;
        await connects.WaitForCountAsync(2);

        await raw.SendFrameAsync(0x1, [0x7B, 0xC3, 0x28, 0x7D]);

        Assert.Equal(1007, await raw.ReceiveCloseCodeAsync());
        var e = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Equal(VizDisconnectReason.ProtocolViolation, e.Reason);
        test.Server.SendAll("still", "here");
        Assert.Equal(("still", "here"), Flatten(await other.ReceiveAsync()));
    }

    [Theory]
    [OnEveryHost]
    public async Task CloseFromTheServerSends1000AfterQueuedEvents(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var (client, serverSide) = await test.ConnectAsync();
        using var _c = client;

        serverSide.Send("last", 1);
        serverSide.Close("done here");

        Assert.Equal(("last", "1"), Flatten(await client.ReceiveAsync()));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await client.ReceiveCloseAsync());
        Assert.Equal("done here", client.Socket.CloseStatusDescription);
        Assert.Equal(VizDisconnectReason.ClosedByServer, (await disconnects.WaitForCountAsync(1))[0].Reason);
        Assert.False(serverSide.Send("too late", 1));
    }

    [Theory]
    [OnEveryHost]
    public async Task StopAsyncClosesEveryClientWith1001AndRaisesDisconnect(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var (a, _) = await test.ConnectAsync();
        var (b, _) = await test.ConnectAsync();
        using var _a = a;
        using var _b = b;
        test.Server.SendAll("flushed", 1);

        await test.Server.StopAsync();

        Assert.Equal(("flushed", "1"), Flatten(await a.ReceiveAsync()));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await a.ReceiveCloseAsync());
        Assert.Equal(("flushed", "1"), Flatten(await b.ReceiveAsync()));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await b.ReceiveCloseAsync());
        var events = await disconnects.WaitForCountAsync(2);
        Assert.All(events, e => Assert.Equal(VizDisconnectReason.ServerStopping, e.Reason));
        Assert.Equal(0, test.Server.ClientCount);
        Assert.False(test.Server.IsRunning);
    }

    // Embedded only: it is about the embedded listener choosing a port and binding it again; a mapped server's port is the app's.
    [Theory, OnOwnHosts]
    public async Task RestartedServerListensOnTheSamePortAndAcceptsClients(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var port = test.Server.Port;
        await test.Server.StopAsync();
        await test.Server.StartAsync();

        Assert.Equal(port, test.Server.Port);
        var (client, _) = await test.ConnectAsync();
        client.Dispose();
    }

    [Theory]
    [OnEveryHost]
    public async Task SendAsyncCompletesOnceWrittenAndReportsFalseAfterDisconnect(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var (a, serverA) = await test.ConnectAsync();
        var (b, _) = await test.ConnectAsync();
        using var _b = b;

        Assert.True(await serverA.SendAsync("hello", 1).WaitAsync(TestServer.Timeout));
        Assert.Equal(2, await test.Server.SendAllAsync("all", 2).WaitAsync(TestServer.Timeout));

        await a.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await disconnects.WaitForCountAsync(1);
        a.Dispose();
        Assert.False(await serverA.SendAsync("gone", 3).WaitAsync(TestServer.Timeout));
        Assert.Equal(1, await test.Server.SendAllAsync("all", 4).WaitAsync(TestServer.Timeout));
    }

    [Theory]
    [OnEveryHost]
    public async Task DisposingASubscriptionStopsItsHandler(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var first = new EventLog<VizMessageEvent>();
        var all = new EventLog<VizMessageEvent>();
        var subscription = test.Server.OnMessage("x", first.Add);
        test.Server.OnMessage(all.Add);
        var (client, _) = await test.ConnectAsync();
        using var _c = client;

        await client.SendAsync("x", 1);
        await all.WaitForCountAsync(1);
        subscription.Dispose();
        subscription.Dispose();
        await client.SendAsync("x", 2);
        await all.WaitForCountAsync(2);

        Assert.Equal([1], first.Items.Select(e => e.Data.GetInt32()));
    }

    public sealed record ButtonClick(int Count, string? Label);

    [Theory]
    [OnEveryHost]
    public async Task TypedHandlerBindsDataAndAnswersUnbindableDataWithAnError(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var clicks = new EventLog<ButtonClick>();
        test.Server.OnMessage<ButtonClick>("button_click", (click, _) => clicks.Add(click));
        var (client, serverSide) = await test.ConnectAsync();
        using var _c = client;

        await client.SendAsync("button_click", new { count = 3, label = "go" });
        Assert.Equal(new ButtonClick(3, "go"), (await clicks.WaitForCountAsync(1))[0]);

        await client.SendAsync("button_click", new { count = "three" });
        var (name, data) = await client.ReceiveAsync();
        Assert.Equal("$error", name);
        Assert.Equal("invalid_data", data!["code"]!.GetValue<string>());
        Assert.True(serverSide.IsConnected);
        Assert.Single(clicks.Items);
    }

    [Theory]
    [OnEveryHost]
    public async Task DynamicAccessReadsAttributeBags(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var counts = new EventLog<int>();
        test.Server.OnMessage("button_click", e =>
        {
            dynamic d = e.Data;
            int n = d.count;
            string label = d.label;
            counts.Add(label == "ok" && d.flag && d.count > 40 && 42 > d.count && d.ratio * 2 == 1.0 ? n + d.count : -1);
        });
        var (client, _) = await test.ConnectAsync();
        using var _c = client;

        await client.SendAsync("button_click", new { count = 41, label = "ok", flag = true, ratio = 0.5 });
        Assert.Equal([82], await counts.WaitForCountAsync(1));
    }

    [Theory]
    [OnEveryHost]
    public async Task BroadcastSerializesThePayloadOnceForAllClients(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var clients = new List<RawClient>();
        for (var i = 0; i < 4; i++)
        {
            clients.Add((await test.ConnectAsync()).Client);
        }

        var payload = new CountingPayload();
        Assert.Equal(4, test.Server.SendAll("counted", payload));

        Assert.Equal(1, payload.Writes);
        foreach (var client in clients)
        {
            Assert.Equal(("counted", "1"), Flatten(await client.ReceiveAsync()));
            client.Dispose();
        }
    }

    [Theory]
    [OnEveryHost]
    public async Task InvalidEventNamesAreRefusedWhenSending(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        Assert.Throws<ArgumentException>(() => test.Server.SendAll("$error", 1));
        Assert.Throws<ArgumentException>(() => test.Server.SendAll("", 1));
        Assert.Throws<ArgumentException>(() => test.Server.OnMessage("$x", _ => { }));
    }

    [Theory]
    [OnEveryHost]
    public async Task HttpRequestToTheSocketEndpointGets400(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var http = new HttpClient { BaseAddress = test.HttpBase };
        var response = await http.GetAsync("vizhtml/socket");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static (string, string) Flatten((string Event, JsonNode? Data) message) =>
        (message.Event, message.Data is JsonValue v && v.TryGetValue<string>(out var s) ? s : message.Data?.ToJsonString() ?? "null");

    [System.Text.Json.Serialization.JsonConverter(typeof(CountingConverter))]
    private sealed class CountingPayload
    {
        public int Writes;
    }

    private sealed class CountingConverter : System.Text.Json.Serialization.JsonConverter<CountingPayload>
    {
        public override CountingPayload Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
            throw new NotSupportedException();

        public override void Write(System.Text.Json.Utf8JsonWriter writer, CountingPayload value, System.Text.Json.JsonSerializerOptions options) =>
            writer.WriteNumberValue(Interlocked.Increment(ref value.Writes));
    }
}
