using System.Net.WebSockets;
using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Time;

/// <summary>A version 2 socket must say <c>$hello</c> within <see cref="VizHtmlOptions.HandshakeTimeout"/>, on a fake clock.</summary>
public sealed class HandshakeTimeoutTests
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _clock = new();

    [Theory, OnOwnHosts]
    public async Task AVersion2SocketThatNeverSaysHelloIsClosedWith1008OnceTheHandshakeTimeoutPassesAndNotBefore(TestHost host)
    {
        await using var test = await StartAsync(host);
        using var client = await Version2Socket.OpenAsync(test);

        // The answer to a message shows the server has the socket, and so its $hello timer, armed at the clock's start.
        await AssertStillOpenAsync(client);

        // The timer runs inside Advance: had it fired, the close would be queued ahead of the next answer.
        _clock.Advance(HandshakeTimeout - TimeSpan.FromMilliseconds(1));
        await AssertStillOpenAsync(client);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await client.ReceiveCloseAsync());
        Assert.Equal("expected $hello", client.Socket.CloseStatusDescription);
        Assert.Equal(0, test.Server.ClientCount);
    }

    [Theory, OnOwnHosts]
    public async Task AVersion2SocketThatSaidHelloInTimeStaysOpenPastTheHandshakeTimeout(TestHost host)
    {
        await using var test = await StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        using var client = await Version2Socket.OpenAsync(test);
        await Version2Socket.HelloAsync(client);
        await connects.WaitForCountAsync(1);

        _clock.Advance(HandshakeTimeout + TimeSpan.FromSeconds(1));

        Assert.Equal(1, test.Server.SendAll("still", 1));
        Assert.Equal("still", (await client.ReceiveAsync()).Event);
        Assert.Equal(1, test.Server.ClientCount);
    }

    [Theory, OnOwnHosts]
    public async Task TheHelloTimeoutStillFiresAfterAGarbageCollection(TestHost host)
    {
        var clock = new FakeTimeProvider();
        await using var test = await StartAsync(host, clock);
        using var client = await Version2Socket.OpenAsync(test);
        await AssertStillOpenAsync(client);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        clock.Advance(HandshakeTimeout);

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await client.ReceiveCloseAsync());
    }

    private Task<TestServer> StartAsync(TestHost host, FakeTimeProvider? clock = null) => TestServer.StartAsync(host, o =>
    {
        o.TimeProvider = clock ?? _clock;
        o.HandshakeTimeout = HandshakeTimeout;
    });

    /// <summary>Sends an event before <c>$hello</c>: an open socket answers with an error and stays open.</summary>
    private static async Task AssertStillOpenAsync(RawClient client)
    {
        await client.SendAsync("early", null);
        var (name, data) = await client.ReceiveAsync();
        Assert.Equal("$error", name);
        Assert.Contains("$hello", data!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
