using System.Text.Json.Nodes;
using VizHtml.Connections;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>Protocol version 2 batching: a client that announces it gets several envelopes per frame, in order, each once.</summary>
public sealed class BatchingTests
{
    [Theory]
    [OnEveryHost]
    public async Task ABatchingClientGetsALoneWelcomeThenArraysHoldingEveryEventOnceInOrder(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var client = await RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2"));
        var welcome = await HelloAsync(client, batch: true);
        Assert.StartsWith("{", welcome, StringComparison.Ordinal);
        Assert.True(JsonNode.Parse(welcome)!["data"]!["batch"]!.GetValue<bool>());

        const int Events = 1000; // within the default send queue bound (1024)
        for (var i = 1; i <= Events; i++)
        {
            test.Server.SendAll("n", i);
        }

        var (received, frames, arrays) = await ReceiveNumberedAsync(client, Events);
        Assert.Equal(Enumerable.Range(1, Events).Select(i => ((long)i, i)), received);

        // The writer drains what a burst queued: far fewer frames than events.
        Assert.True(arrays > 0, "no frame held more than one envelope");
        Assert.True(frames < Events, $"{frames} frames for {Events} events");
    }

    [Theory]
    [OnEveryHost("?v=2", false)]
    [OnEveryHost("?v=2", null)]
    [OnEveryHost("", null)]
    public async Task AClientThatDidNotAskGetsOneEnvelopePerFrame(TestHost host, string query, bool? batch)
    {
        await using var test = await TestServer.StartAsync(host);
        using var client = await RawClient.ConnectAsync(new Uri(test.SocketUri + query));
        if (query.Length > 0)
        {
            var welcome = JsonNode.Parse(await HelloAsync(client, batch))!;
            Assert.False(welcome["data"]!["batch"]!.GetValue<bool>());
        }
        else
        {
            await TestServer.WaitUntilAsync(() => test.Server.Clients.Count == 1);
        }

        const int Events = 1000;
        for (var i = 1; i <= Events; i++)
        {
            test.Server.SendAll("n", i);
        }

        for (var i = 1; i <= Events; i++)
        {
            var text = await client.ReceiveTextAsync() ?? throw new InvalidOperationException("closed");
            var envelope = Assert.IsType<JsonObject>(JsonNode.Parse(text));
            Assert.Equal(i, envelope["data"]!.GetValue<int>());
        }
    }

    [Theory]
    [OnEveryHost]
    public async Task ABatchStopsGrowingAtItsBoundAndALargerEventStillGoesAlone(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var client = await RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2"));
        await HelloAsync(client, batch: true);

        var kilobyte = new string('k', 1000);
        var huge = new string('h', 3 * OutboundBatch.MaxBytes);
        const int Events = 400;
        for (var i = 1; i <= Events; i++)
        {
            test.Server.SendAll("n", i == 200 ? huge : kilobyte);
        }

        var seen = 0L;
        var largest = 0;
        while (seen < Events)
        {
            var text = await client.ReceiveTextAsync() ?? throw new InvalidOperationException("closed");
            var node = JsonNode.Parse(text)!;
            var envelopes = node is JsonArray array ? array.Select(e => e!.AsObject()).ToList() : [node.AsObject()];
            if (envelopes.Any(e => e["data"]!.GetValue<string>().Length == huge.Length))
            {
                Assert.Single(envelopes);
            }
            else
            {
                largest = Math.Max(largest, text.Length);
                Assert.True(text.Length <= OutboundBatch.MaxBytes, $"a batch of {text.Length} bytes");
            }

            foreach (var envelope in envelopes)
            {
                Assert.Equal(++seen, envelope["seq"]!.GetValue<long>());
            }
        }

        Assert.True(largest > 2000, "no batch formed");
    }

    private static async Task<string> HelloAsync(RawClient client, bool? batch)
    {
        var data = new JsonObject { ["v"] = 2, ["token"] = null, ["lastSeq"] = 0 };
        if (batch is { } b)
        {
            data["batch"] = b;
        }

        await client.SendTextAsync(new JsonObject { ["event"] = "$hello", ["data"] = data }.ToJsonString());
        var text = await client.ReceiveTextAsync() ?? throw new InvalidOperationException("closed");
        Assert.Equal("$welcome", JsonNode.Parse(text)!["event"]!.GetValue<string>());
        return text;
    }

    private static async Task<(List<(long Seq, int Value)> Events, int Frames, int Arrays)> ReceiveNumberedAsync(RawClient client, int count)
    {
        var events = new List<(long, int)>();
        int frames = 0, arrays = 0;
        while (events.Count < count)
        {
            var text = await client.ReceiveTextAsync() ?? throw new InvalidOperationException("closed");
            frames++;
            var node = JsonNode.Parse(text)!;
            if (node is JsonArray array)
            {
                arrays++;
                Assert.True(array.Count >= 2, "an array frame holds at least two envelopes");
            }

            foreach (var envelope in node is JsonArray a ? a.Select(e => e!.AsObject()) : [node.AsObject()])
            {
                if (!envelope["event"]!.GetValue<string>().StartsWith('$'))
                {
                    events.Add((envelope["seq"]!.GetValue<long>(), envelope["data"]!.GetValue<int>()));
                }
            }
        }

        return (events, frames, arrays);
    }
}

/// <summary>The send queue's accounting across long batched bursts: what is written is no longer counted as queued.</summary>
public sealed class BatchedQueueAccountingTests
{
    [Theory]
    [OnEveryHost]
    public async Task AfterAMillionBytesOfBurstsTheQueueCountsNothing(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var client = await RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2"));
        await client.SendTextAsync("""{"event":"$hello","data":{"v":2,"token":null,"lastSeq":0,"batch":true}}""");
        await client.ReceiveTextAsync();
        await TestServer.WaitUntilAsync(() => test.Server.Clients.Count == 1 && test.Server.Clients[0].Session.Connection.Batching);
        var connection = test.Server.Clients[0].Session.Connection;

        var kilobyte = new string('k', 1000);
        const int Bursts = 40;
        const int PerBurst = 500;
        long received = 0;
        for (var burst = 0; burst < Bursts; burst++)
        {
            for (var i = 0; i < PerBurst; i++)
            {
                test.Server.SendAll("n", kilobyte);
            }

            // Read this burst completely before the next, so the queue never nears its bound.
            while (received < (long)(burst + 1) * PerBurst)
            {
                var text = await client.ReceiveTextAsync() ?? throw new InvalidOperationException($"closed after {received}: {client.Socket.CloseStatus} {client.Socket.CloseStatusDescription}");
                received += text.StartsWith('[') ? JsonNode.Parse(text)!.AsArray().Count : 1;
            }

            await client.SendTextAsync("""{"event":"$ack","data":{"seq":""" + received + "}}");
        }

        await TestServer.WaitUntilAsync(() => connection.QueuedMessages == 0 && connection.QueuedBytes == 0);
        Assert.Equal((long)Bursts * PerBurst, received);
    }
}
