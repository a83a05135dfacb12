using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Status;

/// <summary>The status page's socket on a fake clock: exact rates, its own traffic left out, and no sampling once it closes.</summary>
public sealed class StatusSamplingTests
{
    [Theory, OnEveryHost]
    public async Task EachSecondCarriesTheEventsOfThatSecondAndTheStatusSocketIsNoClient(TestHost host)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var test = await TestServer.StartAsync(host, o => o.TimeProvider = clock);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        var ticks = new EventLog<VizMessageEvent>();
        test.Server.OnMessage("tick", ticks.Add);
        var (client, serverSide) = await test.ConnectAsync();
        using var _ = client;

        Assert.False(test.Server.StatusPage!.Sampling);
        using var status = await RawClient.ConnectAsync(new Uri($"ws://127.0.0.1:{test.Port}/vizhtml/_status/socket"));
        var first = await ReceiveStatusAsync(status);
        Assert.True(test.Server.StatusPage.Sampling);
        var listed = Assert.Single(first["clients"]!.AsArray());
        Assert.Equal(serverSide.Id, listed!["id"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", listed["address"]!.GetValue<string>());
        Assert.Equal(1, listed["protocol"]!.GetValue<int>());
        Assert.Equal(1, test.Server.ClientCount);
        Assert.Single(connects.Items);

        for (var i = 0; i < 5; i++)
        {
            await client.SendAsync("tick", i);
        }

        await ticks.WaitForCountAsync(5);
        Assert.Equal(2, test.Server.SendAll("news", 1) + test.Server.SendAll("news", 2));
        Assert.Equal("news", (await client.ReceiveAsync()).Event);
        Assert.Equal("news", (await client.ReceiveAsync()).Event);

        clock.Advance(TimeSpan.FromSeconds(1));
        var second = await ReceiveStatusAsync(status);
        var row = Assert.Single(second["clients"]!.AsArray())!;
        Assert.Equal(5, row["eventsIn"]!.GetValue<long>());
        Assert.Equal(5.0, row["inPerSecond"]!.GetValue<double>());
        Assert.Equal(2, row["eventsOut"]!.GetValue<long>());
        Assert.Equal(2.0, row["outPerSecond"]!.GetValue<double>());
        var rate = second["rates"]!.AsArray()[^1]!.AsArray();
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), rate[0]!.GetValue<long>());
        Assert.Equal(5.0, rate[1]!.GetValue<double>());
        Assert.Equal(2.0, rate[2]!.GetValue<double>());

        // A quiet second is a quiet second.
        clock.Advance(TimeSpan.FromSeconds(1));
        var third = await ReceiveStatusAsync(status);
        Assert.Equal(0.0, third["clients"]![0]!["inPerSecond"]!.GetValue<double>());
        Assert.Equal(2, third["rates"]!.AsArray().Count);

        // The options shown say whether a key is set, and nothing shows the status socket.
        Assert.False(third["server"]!["accessKey"]!.GetValue<bool>());
        Assert.Equal(1, third["clientCount"]!.GetValue<int>());

        // Nobody watching: no sampling.
        await status.Socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(TestServer.Timeout);
        await TestServer.WaitUntilAsync(() => !test.Server.StatusPage.Sampling);
        Assert.Equal(0, test.Server.StatusPage.WatcherCount);
    }

    [Theory, OnEveryHost]
    public async Task ADisconnectIsListedWithItsReason(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var (client, serverSide) = await test.ConnectAsync();
        serverSide.Close("bye");
        await disconnects.WaitForCountAsync(1);
        client.Dispose();

        using var status = await RawClient.ConnectAsync(new Uri($"ws://127.0.0.1:{test.Port}/vizhtml/_status/socket"));
        var snapshot = await ReceiveStatusAsync(status);
        var departure = Assert.Single(snapshot["disconnects"]!.AsArray())!;
        Assert.Equal(serverSide.Id, departure["client"]!.GetValue<string>());
        Assert.Equal("closed_by_server", departure["reason"]!.GetValue<string>());
        Assert.Equal(1000, departure["code"]!.GetValue<int>());
    }

    private static async Task<JsonNode> ReceiveStatusAsync(RawClient status)
    {
        var (name, data) = await status.ReceiveAsync();
        Assert.Equal("status", name);
        return data!;
    }
}
