using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using VizHtml.IntegrationTests.Infrastructure;
using static VizHtml.IntegrationTests.Security.SecurityTestSupport;

namespace VizHtml.IntegrationTests.Security;

public sealed class LimitTests
{
    [Theory, OnOwnHosts]
    public async Task ConnectionsBeyondThePerAddressCapGet429UntilOneCloses(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxConnectionsPerAddress = 2);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var (a, _) = await test.ConnectAsync();
        var (b, _) = await test.ConnectAsync();

        Assert.Equal(429, await UpgradeStatusAsync(test.SocketUri));

        await a.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await disconnects.WaitForCountAsync(1);
        var (c, _) = await test.ConnectAsync();
        Assert.Equal(2, test.Server.ClientCount);
        a.Dispose();
        b.Dispose();
        c.Dispose();
    }

    [Theory, OnOwnHosts]
    public async Task ConnectionsBeyondTheTotalCapGet503(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxConnections = 1);
        var (a, _) = await test.ConnectAsync();
        using var _a = a;
        Assert.Equal(503, await UpgradeStatusAsync(test.SocketUri));
    }

    [Theory, OnOwnHosts]
    public async Task AFloodIsDroppedWithOneWarningThenClosedWith1008WhileOthersCarryOn(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxMessagesPerSecond = 20);
        var received = new EventLog<VizMessageEvent>();
        test.Server.OnMessage("m", received.Add);
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        var (flooder, _) = await test.ConnectAsync();
        var (other, _) = await test.ConnectAsync();
        using var _f = flooder;
        using var _o = other;

        // The burst allowance (twice the rate) passes; beyond it messages are dropped and the sender is told once.
        for (var i = 0; i < 60; i++)
        {
            await flooder.SendAsync("m", i);
        }

        var (name, data) = await flooder.ReceiveAsync();
        Assert.Equal("$error", name);
        Assert.Equal("rate_limited", data!["code"]!.GetValue<string>());
        Assert.True(flooder.Socket.State == WebSocketState.Open);

        // Keeping it up past ten seconds' worth of excess closes the connection.
        for (var i = 0; i < 400 && flooder.Socket.State == WebSocketState.Open; i++)
        {
            try
            {
                await flooder.SendAsync("m", i);
            }
            catch (WebSocketException)
            {
                break;
            }
        }

        var gone = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Equal(1008, gone.CloseStatus);
        Assert.True(received.Items.Count < 200, $"{received.Items.Count} messages got through");

        test.Server.SendAll("still", 1);
        Assert.Equal("still", (await other.ReceiveAsync()).Event);
    }

    [Theory, OnOwnHosts]
    public async Task AConnectionThatNeverSendsItsRequestIsClosedAfterTheHandshakeTimeout(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.HandshakeTimeout = TimeSpan.FromSeconds(1));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, test.Server.Port);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new byte[1024];
        int read;
        do
        {
            read = await socket.ReceiveAsync(buffer, timeout.Token);
        }
        while (read > 0);

        Assert.Equal(0, read);
    }
}
