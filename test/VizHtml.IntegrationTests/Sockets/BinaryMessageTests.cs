using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>
/// Binary messages over raw sockets (docs/protocol.md, "Binary messages"): the capability, the wire format both ways,
/// numbering among text events, the limits, malformed input, and the base64 JSON every other client still gets.
/// </summary>
public sealed class BinaryMessageTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Theory]
    [OnEveryHost]
    public async Task AGrantedClientGetsEachBinaryEventAloneWithItsSeqBetweenTextEventsInOrder(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var client = await ConnectAsync(test, binary: true, batch: true);
        var image = RandomNumberGenerator.GetBytes(200_000);
        var depth = RandomNumberGenerator.GetBytes(10);

        test.Server.SendAll("n", 1);
        test.Server.SendAll("frame", new { label = "x", image, depth = (ReadOnlyMemory<byte>)depth });
        test.Server.SendAll("n", 2);
        test.Server.SendAll("raw", image);

        var seen = new List<string>();
        while (seen.Count < 4)
        {
            var (type, bytes) = await ReceiveAsync(client);
            if (type == WebSocketMessageType.Text)
            {
                var node = JsonNode.Parse(bytes)!;
                foreach (var e in node is JsonArray array ? array.Select(n => n!) : [node])
                {
                    seen.Add($"{e["seq"]} {e["event"]} {e["data"]!.ToJsonString()}");
                }

                continue;
            }

            var (envelope, parts) = Decode(bytes);
            seen.Add($"{envelope["seq"]} {envelope["event"]} {envelope["data"]!.ToJsonString()}");
            if (envelope["event"]!.GetValue<string>() == "frame")
            {
                Assert.Equal(image, parts[0]);
                Assert.Equal(depth, parts[1]);
            }
            else
            {
                Assert.Equal(image, Assert.Single(parts));
            }
        }

        Assert.Equal(
            ["1 n 1", """2 frame {"label":"x","image":{"$bin":0},"depth":{"$bin":1}}""", "3 n 2", """4 raw {"$bin":0}"""],
            seen);
    }

    [Theory]
    [OnEveryHost("")]
    [OnEveryHost("?v=2")]
    public async Task AClientWithoutBinaryGetsTheSameEventAsJsonWithBase64AsSystemTextJsonWritesIt(TestHost host, string query)
    {
        await using var test = await TestServer.StartAsync(host);
        using var plain = query.Length == 0 ? await RawClient.ConnectAsync(test.SocketUri) : await ConnectAsync(test, binary: false, batch: false);
        using var granted = await ConnectAsync(test, binary: true, batch: false);
        await TestServer.WaitUntilAsync(() => test.Server.ClientCount == 2);
        var data = new { label = "x", image = RandomNumberGenerator.GetBytes(1000), more = new[] { RandomNumberGenerator.GetBytes(3) }, depth = (ReadOnlyMemory<byte>)RandomNumberGenerator.GetBytes(5) };

        Assert.Equal(2, test.Server.SendAll("frame", data));

        var (type, bytes) = await ReceiveAsync(plain);
        Assert.Equal(WebSocketMessageType.Text, type);
        // Byte for byte what System.Text.Json writes for the same object (after the "seq" a version 2 client gets first).
        var expected = JsonSerializer.Serialize(new { @event = "frame", data }, Web);
        Assert.Equal(query.Length == 0 ? expected : "{\"seq\":1," + expected[1..], Encoding.UTF8.GetString(bytes));

        // The granted client still gets the binary form of the same broadcast.
        Assert.Equal(WebSocketMessageType.Binary, (await ReceiveAsync(granted)).Type);
    }

    [Theory]
    [OnEveryHost]
    public async Task AClientThatDidNotAskIsNotGrantedBinaryAndIsClosedWith1003ForABinaryMessage(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var client = await RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2"));
        await client.SendTextAsync("""{"event":"$hello","data":{"v":2,"token":null,"lastSeq":0}}""");
        var welcome = JsonNode.Parse(await client.ReceiveTextAsync() ?? "null")!["data"]!.AsObject();
        Assert.False(welcome.ContainsKey("binary"));

        await SendBinaryAsync(client, Encode("""{"event":"b","data":{"$bin":0}}""", [1, 2, 3]));
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await client.ReceiveCloseAsync());
    }

    [Theory]
    [OnEveryHost]
    public async Task AGrantedClientsBinaryMessageReachesHandlersWithItsParts(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var events = new EventLog<(VizMessageEvent Event, Shape Shape)>();
        test.Server.OnMessage<Shape>("shape", (shape, e) => events.Add((e, shape)));
        using var client = await ConnectAsync(test, binary: true, batch: true);

        var blob = RandomNumberGenerator.GetBytes(70_000);
        await SendBinaryAsync(client, Encode("""{"event":"shape","data":{"name":"s","blob":{"$bin":1},"small":{"$bin":0}},"seq":1}""", [1, 2], blob));

        var (e, shape) = Assert.Single(await events.WaitForCountAsync(1));
        Assert.Equal("s", shape.Name);
        Assert.Equal(blob, shape.Blob);
        Assert.Equal([1, 2], shape.Small.ToArray());
        Assert.Equal(2, e.Parts.Count);
        Assert.Equal(blob, e.GetBytes(e.Data["blob"]).ToArray());

        // Acknowledged as any numbered event.
        var (type, ack) = await ReceiveAsync(client);
        Assert.Equal("""{"event":"$ack","data":{"seq":1}}""", Encoding.UTF8.GetString(ack));
        Assert.Equal(WebSocketMessageType.Text, type);
    }

    public sealed record Shape(string Name, byte[] Blob, ReadOnlyMemory<byte> Small);

    public static TheoryData<string, byte[]> MalformedMessages() => new()
    {
        { "shorter than the length", [0, 0, 1] },
        { "header longer than the message", [0, 0, 0, 99, .. "{}"u8] },
        { "header not JSON", [0, 0, 0, 3, .. "{{{"u8] },
        { "no bin", EncodeHeader("""{"event":"b","data":1}""") },
        { "parts longer than said", [.. Encode("""{"event":"b","data":{"$bin":0}}""", [1, 2]), 9] },
        { "parts shorter than said", Encode("""{"event":"b","data":{"$bin":0}}""", [1, 2])[..^1] },
        { "negative length", EncodeHeader("""{"event":"b","data":null,"bin":[-1]}""") },
        { "a control event", Encode("""{"event":"$ack","data":{"seq":1}}""", [1]) },
    };

    [Theory]
    [MemberData(nameof(MalformedMessages))]
    public async Task AMalformedBinaryMessageFromAGrantedClientGetsAnErrorAndEveryoneKeepsTheirConnectionAndMessages(string name, byte[] message)
    {
        await using var test = await TestServer.StartAsync(TestHost.Embedded);
        var received = new EventLog<string>();
        test.Server.OnMessage(e => received.Add(e.Event));
        using var sender = await ConnectAsync(test, binary: true, batch: false);
        using var other = await ConnectAsync(test, binary: true, batch: false);

        await SendBinaryAsync(sender, message);
        var (_, error) = await ReceiveAsync(sender);
        var errorData = JsonNode.Parse(error)!;
        Assert.Equal("$error", errorData["event"]!.GetValue<string>());
        Assert.True(errorData["data"]!["code"]!.GetValue<string>() is "invalid_envelope" or "invalid_json", $"{name}: {errorData.ToJsonString()}");

        // Both connections carry on: the sender's next message arrives, and the other client gets its broadcast.
        await SendBinaryAsync(sender, Encode("""{"event":"ok","data":{"$bin":0}}""", [7]));
        Assert.Equal(["ok"], await received.WaitForCountAsync(1));
        Assert.Equal(2, test.Server.SendAll("after", 1));
        Assert.Equal("after", JsonNode.Parse((await ReceiveAsync(other)).Bytes)!["event"]!.GetValue<string>());
        Assert.Equal("after", JsonNode.Parse((await ReceiveAsync(sender)).Bytes)!["event"]!.GetValue<string>());
    }

    [Theory]
    [OnEveryHost]
    public async Task LatestAndVolatileBinaryEventsGoAsUnnumberedBinaryMessages(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.SetDelivery("pose", VizDelivery.Latest);
        test.Server.SetDelivery("tick", VizDelivery.Volatile);
        using var client = await ConnectAsync(test, binary: true, batch: true);

        Assert.Equal(1, test.Server.SendAll("tick", new byte[] { 1 }));
        var (type, bytes) = await ReceiveAsync(client);
        Assert.Equal(WebSocketMessageType.Binary, type);
        var (tick, _) = Decode(bytes);
        Assert.Null(tick["seq"]);

        Assert.Equal(1, test.Server.SendAll("pose", new byte[] { 2 }));
        (type, bytes) = await ReceiveAsync(client);
        var (pose, parts) = Decode(bytes);
        Assert.Equal("pose", pose["event"]!.GetValue<string>());
        Assert.Null(pose["seq"]);
        Assert.Equal([2], Assert.Single(parts));
    }

    [Theory]
    [OnEveryHost(20_000, true)]
    [OnEveryHost(60_000, false)]
    public async Task BinaryEventsMissedWhileAwayAreReplayedOnResumeWhileTheirBytesFitTheReplayBuffer(TestHost host, int size, bool recovered)
    {
        // Three events: 60 KB in all fit 100 KB of replay buffer, 180 KB do not (the bytes counted are the binary messages').
        await using var test = await TestServer.StartAsync(host, o => o.ReplayBufferBytes = 100_000);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        using var first = await RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2"));
        var token = (await HelloAsync(first, token: null, binary: true))["token"]!.GetValue<string>();
        (await connects.WaitForCountAsync(1))[0].Client.Session.Connection.Abort();
        await TestServer.WaitUntilAsync(() => test.Server.AwayCount == 1);
        var chunks = Enumerable.Range(0, 3).Select(_ => RandomNumberGenerator.GetBytes(size)).ToArray();
        foreach (var chunk in chunks)
        {
            test.Server.SendAll("chunk", chunk);
        }

        using var second = await RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2"));
        var welcome = await HelloAsync(second, token, binary: true);

        Assert.True(welcome["resumed"]!.GetValue<bool>());
        Assert.Equal(recovered, welcome["recovered"]!.GetValue<bool>());
        Assert.Equal(3, welcome["sentSeq"]!.GetValue<long>());
        if (recovered)
        {
            for (var i = 0; i < chunks.Length; i++)
            {
                var (type, bytes) = await ReceiveAsync(second);
                Assert.Equal(WebSocketMessageType.Binary, type);
                var (envelope, parts) = Decode(bytes);
                Assert.Equal(i + 1, envelope["seq"]!.GetValue<long>());
                Assert.Equal(chunks[i], Assert.Single(parts));
            }
        }

        // Either way the next event carries on the numbering, as a binary message.
        test.Server.SendAll("chunk", new byte[] { 4 });
        var (next, _) = Decode((await ReceiveAsync(second)).Bytes);
        Assert.Equal(4, next["seq"]!.GetValue<long>());
    }

    [Theory]
    [OnEveryHost]
    public async Task ABinaryMessageLargerThanMaxMessageBytesIsClosedWith1009(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxMessageBytes = 64 * 1024);
        using var client = await ConnectAsync(test, binary: true, batch: false);

        await SendBinaryAsync(client, Encode("""{"event":"b","data":{"$bin":0}}""", new byte[64 * 1024]));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await client.ReceiveCloseAsync());
    }

    private static async Task<RawClient> ConnectAsync(TestServer test, bool binary, bool batch)
    {
        var client = await RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2"));
        await HelloAsync(client, token: null, binary, batch);
        return client;
    }

    /// <summary>Says hello (asking for binary or not) and returns the welcome's data, checked to grant what was asked.</summary>
    private static async Task<JsonNode> HelloAsync(RawClient client, string? token, bool binary, bool batch = false)
    {
        var data = new JsonObject { ["v"] = 2, ["token"] = token, ["lastSeq"] = 0, ["batch"] = batch };
        if (binary)
        {
            data["binary"] = true;
        }

        await client.SendTextAsync(new JsonObject { ["event"] = "$hello", ["data"] = data }.ToJsonString());
        var welcome = JsonNode.Parse(await client.ReceiveTextAsync() ?? "null")!;
        Assert.Equal("$welcome", welcome["event"]!.GetValue<string>());
        Assert.Equal(binary, welcome["data"]!["binary"]?.GetValue<bool>() ?? false);
        return welcome["data"]!;
    }

    private static async Task<(WebSocketMessageType Type, byte[] Bytes)> ReceiveAsync(RawClient client)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await client.Socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }

    private static async Task SendBinaryAsync(RawClient client, byte[] message)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await client.Socket.SendAsync(message, WebSocketMessageType.Binary, true, timeout.Token);
    }

    /// <summary>A binary message: the envelope gets "bin" with the parts' lengths.</summary>
    private static byte[] Encode(string envelope, params byte[][] parts)
    {
        var bin = $",\"bin\":[{string.Join(',', parts.Select(p => p.Length))}]}}";
        return [.. EncodeHeader(envelope[..^1] + bin), .. parts.SelectMany(p => p)];
    }

    private static byte[] EncodeHeader(string json)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, header.Length);
        return [.. length, .. header];
    }

    private static (JsonObject Envelope, List<byte[]> Parts) Decode(byte[] message)
    {
        var length = BinaryPrimitives.ReadInt32BigEndian(message);
        var envelope = JsonNode.Parse(message.AsSpan(4, length))!.AsObject();
        var parts = new List<byte[]>();
        var at = 4 + length;
        foreach (var part in envelope["bin"]!.AsArray())
        {
            var n = part!.GetValue<int>();
            parts.Add(message[at..(at + n)]);
            at += n;
        }

        Assert.Equal(message.Length, at);
        envelope.Remove("bin");
        return (envelope, parts);
    }
}
