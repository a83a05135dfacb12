using System.Net;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Security;

/// <summary>What clients that are away cost: a broadcast keeps its events once for all of them, not once per client.</summary>
[Collection("Memory")]
public sealed class AwaySessionMemoryTests
{
    [Theory, OnOwnHosts]
    public async Task ThousandsOfBroadcastsWhileTwoThousandClientsAreAwayAreKeptOnceAndTheyStillResumeWithAllOfThem(TestHost host)
    {
        const int Away = 2000;
        const int Broadcasts = 1000;
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.MaxConnectionsPerAddress = Away;
            o.MaxConnections = Away + 10;
        });
        var tokens = new List<string>();
        for (var i = 0; i < Away; i++)
        {
            tokens.Add(await AwaySessionLimitTests.AwayClient.HelloThenResetAsync(test, IPAddress.Loopback));
        }

        await TestServer.WaitUntilAsync(() => test.Server.AwayCount == Away);
        var before = ProcessMemory.HeapAfterFullCollection();

        // 1,000 different 1 KiB events (each payload is one array, shared by everyone it is for).
        var text = new string('x', 1000);
        for (var i = 0; i < Broadcasts; i++)
        {
            test.Server.SendAll("n", text + i);
        }

        var after = ProcessMemory.HeapAfterFullCollection();

        // The payloads (about 1 MiB) plus a log entry each. Kept per away client, even 40 bytes an entry would be 80 MB.
        Assert.True(after - before < 8 * ProcessMemory.MiB, $"the managed heap grew by {ProcessMemory.Format(after - before)} (before {ProcessMemory.Format(before)})");

        // And they are all there for a client that comes back.
        using var back = await AwaySessionLimitTests.AwayClient.HelloAsync(test, IPAddress.Loopback, tokens[Away / 2]);
        Assert.True(back.Resumed);
        for (var i = 0; i < Broadcasts; i++)
        {
            var envelope = System.Text.Json.Nodes.JsonNode.Parse(await back.Tcp.ReceiveTextAsync())!;
            Assert.Equal(i + 1, envelope["seq"]!.GetValue<long>());
            Assert.Equal(text + i, envelope["data"]!.GetValue<string>());
        }
    }
}
