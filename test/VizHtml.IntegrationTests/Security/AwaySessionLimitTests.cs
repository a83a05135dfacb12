using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using VizHtml.IntegrationTests.Infrastructure;
using VizHtml.IntegrationTests.Sockets;

namespace VizHtml.IntegrationTests.Security;

/// <summary>
/// Clients that are away (connection lost, may resume) are held to limits: per address, in all, and by the bytes their
/// replay buffers keep. The one away longest is forgotten first, and comes back to a fresh session.
/// </summary>
public sealed class AwaySessionLimitTests
{
    [Theory]
    [OnEveryHost]
    public async Task AwayClientsFromOneAddressBeyondItsCapForgetTheOldestFirst(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxConnectionsPerAddress = 3);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var tokens = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            // Each client's departure is filed (and the oldest forgotten) before its disconnect event: wait for that event,
            // not for the away count, which stops changing once the cap is reached.
            tokens.Add(await AwayClient.HelloThenResetAsync(test, IPAddress.Loopback));
            await disconnects.WaitForCountAsync(i + 1);
            Assert.Equal(Math.Min(i + 1, 3), test.Server.AwayCount);
        }

        // Another address is not affected by this one's cap.
        var other = await AwayClient.HelloThenResetAsync(test, IPAddress.Parse("127.0.0.2"));
        await disconnects.WaitForCountAsync(6);
        Assert.Equal(4, test.Server.AwayCount);

        Assert.False(await AwayClient.ResumesAsync(test, tokens[0]));
        Assert.False(await AwayClient.ResumesAsync(test, tokens[1]));
        Assert.True(await AwayClient.ResumesAsync(test, tokens[2]));
        Assert.True(await AwayClient.ResumesAsync(test, tokens[4]));
        Assert.True(await AwayClient.ResumesAsync(test, other));
    }

    [Theory]
    [OnEveryHost]
    public async Task MoreAwayClientsThanMaxAwaySessionsForgetTheOldestFirstWhateverTheirAddress(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxAwaySessions = 4);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var tokens = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            // As above: the disconnect event comes after the client is filed as away and the oldest is forgotten.
            tokens.Add(await AwayClient.HelloThenResetAsync(test, IPAddress.Parse($"127.0.0.{1 + (i % 3)}")));
            await disconnects.WaitForCountAsync(i + 1);
            Assert.Equal(Math.Min(i + 1, 4), test.Server.AwayCount);
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.False(await AwayClient.ResumesAsync(test, tokens[i]), $"client {i} should have been forgotten");
        }

        for (var i = 3; i < 7; i++)
        {
            Assert.True(await AwayClient.ResumesAsync(test, tokens[i]), $"client {i} should resume");
        }
    }

    [Theory, OnOwnHosts]
    public async Task WithMaxAwaySessionsZeroALostConnectionEndsItsSessionAndSaysItCannotResume(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxAwaySessions = 0);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var token = await AwayClient.HelloThenResetAsync(test, IPAddress.Loopback);

        var lost = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Equal(VizDisconnectReason.ConnectionLost, lost.Reason);
        Assert.False(lost.CanResume);
        Assert.Equal(0, test.Server.AwayCount);
        Assert.False(await AwayClient.ResumesAsync(test, token));
    }

    [Theory]
    [OnEveryHost]
    public async Task ReplayBuffersBeyondTheirTotalBoundForgetTheClientsAwayLongest(TestHost host)
    {
        // Each client keeps up to 16 KiB unacknowledged; together at most 40 KiB.
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.ReplayBufferBytes = 16 * 1024;
            o.TotalReplayBufferBytes = 40 * 1024;
        });
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        var tokens = new List<string>();
        var chunk = new string('x', 12 * 1024);
        for (var i = 0; i < 4; i++)
        {
            using var raw = await AwayClient.HelloAsync(test, IPAddress.Loopback);
            var client = (await connects.WaitForCountAsync(i + 1))[i].Client;

            // 12 KiB it receives and never acknowledges: kept for a resume.
            Assert.True(client.Send("chunk", chunk));
            await raw.Tcp.ReceiveTextAsync();
            tokens.Add(raw.Token);
            raw.Tcp.Reset();
            await TestServer.WaitUntilAsync(() => !client.IsConnected);
        }

        // 4 x 12 KiB is past 40 KiB: the first away is forgotten, the other three (36 KiB) are kept.
        await TestServer.WaitUntilAsync(() => test.Server.AwayCount == 3);
        Assert.False(await AwayClient.ResumesAsync(test, tokens[0]));
        for (var i = 1; i < 4; i++)
        {
            Assert.True(await AwayClient.ResumesAsync(test, tokens[i]), $"client {i} should resume");
        }
    }

    [Theory, OnOwnHosts]
    public async Task ClientsThatSayHelloAndResetInALoopFromFourAddressesStayWithinTheCapsAndOthersStillGetEveryBroadcast(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxConnectionsPerAddress = 50);
        var (reader, _) = await test.ConnectAsync();
        var addresses = Enumerable.Range(1, 4).Select(i => IPAddress.Parse($"127.0.1.{i}")).ToArray();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        var attackers = addresses.Select(address => Task.Run(async () =>
        {
            var made = 0;
            while (!stop.IsCancellationRequested)
            {
                await AwayClient.HelloThenResetAsync(test, address);
                made++;
            }

            return made;
        })).ToArray();

        var sent = 0;
        while (!stop.IsCancellationRequested)
        {
            test.Server.SendAll("tick", ++sent);
            Assert.True(test.Server.AwayCount <= 4 * 50, $"{test.Server.AwayCount} clients away, more than 4 addresses x 50");
            await Task.Delay(5);
        }

        var made = (await Task.WhenAll(attackers)).Sum();
        Assert.True(made > 4 * 50, $"only {made} sessions were made; the caps were never tested");
        for (var i = 1; i <= sent; i++)
        {
            var (name, data) = await reader.ReceiveAsync();
            Assert.Equal(("tick", i), (name, data!.GetValue<int>()));
        }

        // Every reset is noticed in the end: each address then has exactly its cap away.
        await TestServer.WaitUntilAsync(() => test.Server.ClientCount == 1 && test.Server.AwayCount == 4 * 50);
    }

    /// <summary>A version 2 client on a bare socket from a chosen local address: says hello, then drops without a close.</summary>
    internal sealed class AwayClient : IDisposable
    {
        private AwayClient(RawTcp tcp, string token)
        {
            Tcp = tcp;
            Token = token;
        }

        public RawTcp Tcp { get; }

        public string Token { get; }

        public static async Task<AwayClient> HelloAsync(TestServer test, IPAddress from, string? token = null)
        {
            var tcp = await RawTcp.UpgradeAsync(test.Port, from: from, query: "?v=2");
            var hello = new JsonObject { ["event"] = "$hello", ["data"] = new JsonObject { ["v"] = 2, ["token"] = token, ["lastSeq"] = 0 } };
            await tcp.SendFrameAsync(0x1, Encoding.UTF8.GetBytes(hello.ToJsonString()));
            var welcome = JsonNode.Parse(await tcp.ReceiveTextAsync())!;
            Assert.Equal("$welcome", welcome["event"]!.GetValue<string>());
            return new AwayClient(tcp, welcome["data"]!["token"]!.GetValue<string>()) { Resumed = welcome["data"]!["resumed"]!.GetValue<bool>() };
        }

        public bool Resumed { get; private init; }

        /// <summary>Says hello and drops the connection with a TCP reset; returns the resume token.</summary>
        public static async Task<string> HelloThenResetAsync(TestServer test, IPAddress from)
        {
            using var client = await HelloAsync(test, from);
            client.Tcp.Reset();
            return client.Token;
        }

        /// <summary>
        /// Whether a client presenting <paramref name="token"/> resumes its session. It then closes with 1000, which ends
        /// the session, so checking does not make another away client.
        /// </summary>
        public static async Task<bool> ResumesAsync(TestServer test, string token)
        {
            using var client = await HelloAsync(test, IPAddress.Loopback, token);
            await client.Tcp.SendFrameAsync(0x8, [0x03, 0xE8]);
            Assert.Equal(1000, await client.Tcp.ReceiveCloseCodeAsync());
            return client.Resumed;
        }

        public void Dispose() => Tcp.Dispose();
    }
}
