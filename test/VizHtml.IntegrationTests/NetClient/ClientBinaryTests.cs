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

    [Theory]
    [OnEveryHost]
    public async Task BinaryEventsBothWaysWhileTheConnectionIsCutArriveOnceAndInOrderAfterTheResume(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var frames = new EventLog<byte[]>();
        test.Server.OnMessage<byte[]>("up", (bytes, _) => frames.Add(bytes));
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        await using var proxy = new Faults.FaultProxy(test.Server.Port);
        var options = new VizHtmlClientOptions { InitialReconnectDelay = TimeSpan.FromMilliseconds(20), MaxReconnectDelay = TimeSpan.FromMilliseconds(50) };
        await using var client = new VizHtmlClient(proxy.HttpBase, options);
        var received = new EventLog<byte[]>();
        client.OnMessage("down", e => received.Add(e.GetBytes(e.Data).ToArray()));
        var changes = new EventLog<VizClientConnectionEvent>();
        client.OnConnectionChanged(changes.Add);
        await client.StartAsync().WaitAsync(TestServer.Timeout);
        var serverSide = Assert.Single(await connects.WaitForCountAsync(1)).Client;

        proxy.GoDown();
        await changes.WaitForAsync(items => items.Any(e => !e.Connected));
        await TestServer.WaitUntilAsync(() => test.Server.AwayCount == 1);
        var up = Enumerable.Range(0, 3).Select(i => RandomNumberGenerator.GetBytes(50_000 + i)).ToArray();
        var down = Enumerable.Range(0, 3).Select(i => RandomNumberGenerator.GetBytes(40_000 + i)).ToArray();
        foreach (var bytes in up)
        {
            client.Send("up", bytes);
        }

        foreach (var bytes in down)
        {
            Assert.True(serverSide.Send("down", bytes));
        }

        proxy.GoUp();
        var resumed = (await connects.WaitForCountAsync(2))[1];
        Assert.True(resumed.Recovered);

        Assert.Equal(up, await frames.WaitForCountAsync(3));
        Assert.Equal(down, await received.WaitForCountAsync(3));
    }
}
