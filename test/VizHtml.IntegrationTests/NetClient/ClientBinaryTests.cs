using System.Security.Cryptography;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.NetClient;

/// <summary>A <see cref="VizHtmlClient"/> and the server exchange bytes as binary messages both ways, and across a resume.</summary>
public sealed class ClientBinaryTests
{
    public sealed record Frame(string Label, byte[] Image, ReadOnlyMemory<byte> Depth);

    [Theory]
    [OnEveryHost]
    public async Task AMegabyteAndAMixedPayloadGoEachWayIntact(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var frames = new EventLog<Frame>();
        test.Server.OnMessage<Frame>("frame", (frame, _) => frames.Add(frame));
        await using var client = new VizHtmlClient(test.HttpBase);
        var received = new EventLog<VizClientMessageEvent>();
        client.OnMessage(received.Add);
        await client.StartAsync().WaitAsync(TestServer.Timeout);
        await TestServer.WaitUntilAsync(() => test.Server.ClientCount == 1);

        var megabyte = RandomNumberGenerator.GetBytes(1 << 20);
        var depth = RandomNumberGenerator.GetBytes(1000);
        test.Server.SendAll("blob", megabyte);
        test.Server.SendAll("frame", new Frame("server", [1, 2, 3], depth));
        var events = await received.WaitForCountAsync(2);
        Assert.Equal(megabyte, events[0].GetBytes(events[0].Data).ToArray());
        Assert.Equal("server", events[1].Data["label"].GetString());
        Assert.Equal([1, 2, 3], events[1].GetBytes(events[1].Data["image"]).ToArray());
        Assert.Equal(depth, events[1].GetBytes(events[1].Data["depth"]).ToArray());
        Assert.Equal(2, events[1].Parts.Count);

        client.Send("frame", new Frame("client", megabyte, depth));
        var frame = Assert.Single(await frames.WaitForCountAsync(1));
        Assert.Equal("client", frame.Label);
        Assert.Equal(megabyte, frame.Image);
        Assert.Equal(depth, frame.Depth.ToArray());
    }
}
