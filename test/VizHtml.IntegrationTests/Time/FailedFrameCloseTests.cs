using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Conformance;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Time;

/// <summary>
/// After the WebSocket layer fails a frame (1002, 1007) the server closes TCP itself, a short grace after its close frame,
/// as RFC 6455 7.1.1 asks, instead of leaving it to the client for the whole <see cref="VizHtmlOptions.CloseTimeout"/>.
/// </summary>
public sealed class FailedFrameCloseTests
{
    [Theory, OnOwnHosts]
    public async Task AfterTheWebSocketLayerFailsAFrameTheServerClosesTcpWithinASecondThoughTheClientNeverCloses(TestHost host)
    {
        var clock = new FakeTimeProvider();
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.TimeProvider = clock;
            o.CloseTimeout = TimeSpan.FromSeconds(30);
        });
        using var ws = await WsWire.ConnectAsync(test.Server.Port);

        // A reserved opcode: the runtime answers 1002 itself. This client then sends nothing and keeps its end open.
        await ws.SendFrameAsync(0x3, []);
        Assert.Equal(1002, (await ws.ReadUntilCloseAsync())?.CloseCode);

        var tcpEnd = ws.ExpectTcpEndAsync();
        var waited = await clock.AdvanceUntilAsync(tcpEnd, TimeSpan.FromMilliseconds(100), limit: TimeSpan.FromSeconds(1));
        await tcpEnd;
        Assert.True(waited <= TimeSpan.FromSeconds(1), $"TCP was closed after {waited} of fake time");
    }
}
