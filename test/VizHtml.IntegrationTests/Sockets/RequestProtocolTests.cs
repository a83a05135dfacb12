using System.Text.Json.Nodes;
using VizHtml.IntegrationTests.Infrastructure;
using VizHtml.IntegrationTests.Time;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>
/// Requests on the wire (docs/protocol.md, "Requests"): granted only to a version 2 client that asks in its <c>$hello</c>;
/// every other client, version 1 or not asking, sees the protocol of before, <c>req</c> ignored and <c>$reply</c> reserved.
/// </summary>
public sealed class RequestProtocolTests
{
    [Theory, OnEveryHost]
    public async Task AVersionTwoClientThatAsksIsGrantedRequestsAndItsRequestIsAnsweredWithANumberedReply(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.OnRequest<int, int>("double", (n, e) => n * 2);
        using var client = await Version2Socket.OpenAsync(test);
        await client.SendTextAsync("""{"event":"$hello","data":{"v":2,"requests":true}}""");
        var (_, welcome) = await client.ReceiveAsync();
        Assert.True(welcome!["requests"]!.GetValue<bool>());

        await client.SendTextAsync("""{"event":"double","data":21,"seq":1,"req":5}""");
        var frames = new List<JsonObject>();
        while (frames.All(f => (string?)f["event"] != "$reply"))
        {
            frames.Add(JsonNode.Parse((await client.ReceiveTextAsync())!)!.AsObject());
        }

        var reply = frames.Single(f => (string?)f["event"] == "$reply");
        Assert.Equal(1, reply["seq"]!.GetValue<long>());
        Assert.Equal("""{"req":5,"value":42}""", reply["data"]!.ToJsonString());
    }

    [Theory, OnEveryHost]
    public async Task ClientsThatDoNotAskAreNotGrantedAndTheirReqIsIgnoredAsBefore(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var messages = new EventLog<VizMessageEvent>();
        test.Server.OnMessage("double", messages.Add);
        test.Server.OnRequest<int, int>("double", (n, e) => n * 2);

        // Version 1: a plain event; nothing comes back.
        var (v1, _) = await test.ConnectAsync();
        using (v1)
        {
            await v1.SendTextAsync("""{"event":"double","data":1,"req":1}""");
            await messages.WaitForCountAsync(1);
            await v1.SendTextAsync("""{"event":"$reply","data":{"req":1,"value":2}}""");
            var (name, error) = await v1.ReceiveAsync();
            Assert.Equal(("$error", "invalid_event_name"), (name, error!["code"]!.GetValue<string>()));
        }

        // Version 2 without asking: a welcome without "requests", then the same.
        using var v2 = await Version2Socket.OpenAsync(test);
        var welcome = await Version2Socket.HelloAsync(v2);
        Assert.False(welcome.ContainsKey("requests"));
        await v2.SendTextAsync("""{"event":"double","data":2,"seq":1,"req":1}""");
        await messages.WaitForCountAsync(2);
        Assert.Equal("$ack", (await v2.ReceiveAsync()).Event);
        await v2.SendTextAsync("""{"event":"$reply","data":{"req":1,"value":2},"seq":2}""");
        var (name2, error2) = await v2.ReceiveAsync();
        Assert.Equal(("$error", "invalid_event_name"), (name2, error2!["code"]!.GetValue<string>()));
        Assert.Equal([1, 2], messages.Items.Select(e => (int)e.Data));
    }

    [Theory, OnEveryHost]
    public async Task AMalformedReqOrReplyFromAGrantedClientIsAnInvalidEnvelopeAndTheConnectionStays(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.OnRequest<int, int>("double", (n, e) => n * 2);
        using var client = await Version2Socket.OpenAsync(test);
        await client.SendTextAsync("""{"event":"$hello","data":{"v":2,"requests":true}}""");
        await client.ReceiveAsync();

        await client.SendTextAsync("""{"event":"double","data":1,"req":-1}""");
        var (name, error) = await client.ReceiveAsync();
        Assert.Equal(("$error", "invalid_envelope"), (name, error!["code"]!.GetValue<string>()));
        await client.SendTextAsync("""{"event":"$reply","data":{"value":1}}""");
        (name, error) = await client.ReceiveAsync();
        Assert.Equal(("$error", "invalid_envelope"), (name, error!["code"]!.GetValue<string>()));

        await client.SendTextAsync("""{"event":"double","data":4,"req":2}""");
        (name, var reply) = await client.ReceiveAsync();
        Assert.Equal(("$reply", """{"req":2,"value":8}"""), (name, reply!.ToJsonString()));
    }

    [Fact]
    public async Task ASecondHandlerForOneRequestNameIsRefusedUntilTheFirstIsDisposed()
    {
        await using var test = await TestServer.StartAsync();
        var first = test.Server.OnRequest<int, int>("double", (n, e) => n * 2);

        var refused = Assert.Throws<InvalidOperationException>(() => test.Server.OnRequest("double", e => 0));
        Assert.Contains("'double'", refused.Message, StringComparison.Ordinal);
        first.Dispose();
        first.Dispose();
        using var second = test.Server.OnRequest("double", e => 0);
    }

    [Theory, OnEveryHost]
    public async Task AfterAResumeWithoutRecoveryOnlyTheRequestsTheClientNeverGotFailWithSessionLost(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.ReplayBufferMessages = 5);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnConnect(connects.Add);
        test.Server.OnDisconnect(disconnects.Add);
        var first = await Version2Socket.OpenAsync(test);
        await first.SendTextAsync("""{"event":"$hello","data":{"v":2,"requests":true}}""");
        var token = (await first.ReceiveAsync()).Data!["token"]!.GetValue<string>();
        var client = (await connects.WaitForCountAsync(1))[0].Client;

        // Received before the cut: the client has it (its lastSeq says so) and answers it after the resume.
        var received = client.RequestAsync<int>("ask", 1);
        var request = JsonNode.Parse((await first.ReceiveTextAsync())!)!.AsObject();
        Assert.Equal((1L, 1L), (request["seq"]!.GetValue<long>(), request["req"]!.GetValue<long>()));
        first.Socket.Abort();
        first.Dispose();
        await disconnects.WaitForCountAsync(1);

        // Sent while it is away and pushed out of the replay buffer: it never gets it.
        var missed = client.RequestAsync<int>("ask", 2);
        for (var i = 0; i < 10; i++)
        {
            client.Send("filler", i);
        }

        using var second = await Version2Socket.OpenAsync(test);
        await second.SendTextAsync(new JsonObject { ["event"] = "$hello", ["data"] = new JsonObject { ["v"] = 2, ["token"] = token, ["lastSeq"] = 1, ["requests"] = true } }.ToJsonString());
        var welcome = (await second.ReceiveAsync()).Data!;
        Assert.True(welcome["resumed"]!.GetValue<bool>());
        Assert.False(welcome["recovered"]!.GetValue<bool>());

        Assert.Equal("session_lost", (await Assert.ThrowsAsync<VizRequestException>(() => missed.WaitAsync(TestServer.Timeout))).Code);
        Assert.False(received.IsCompleted);
        await second.SendTextAsync("""{"event":"$reply","data":{"req":1,"value":10},"seq":1}""");
        Assert.Equal(10, await received.WaitAsync(TestServer.Timeout));
    }

    [Fact]
    public async Task InManualDispatchARequestHandlerRunsInDispatchPending()
    {
        await using var test = await TestServer.StartAsync(o => o.Dispatch = VizDispatchMode.Manual);
        var pumping = false;
        var ranInPump = new List<bool>();
        test.Server.OnRequest<int, int>("double", (n, e) =>
        {
            ranInPump.Add(pumping);
            return n * 2;
        });
        await using var client = new VizHtmlClient(test.HttpBase);
        await client.StartAsync().WaitAsync(TestServer.Timeout);

        var answer = client.RequestAsync<int>("double", 4);
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        while (!answer.IsCompleted && DateTime.UtcNow < deadline)
        {
            pumping = true;
            test.Server.DispatchPending();
            pumping = false;
            await Task.Delay(5);
        }

        Assert.Equal(8, await answer.WaitAsync(TestServer.Timeout));
        Assert.Equal([true], ranInPump);
    }
}
