using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Conformance;
using VizHtml.IntegrationTests.Infrastructure;
using VizHtml.IntegrationTests.Security;

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
        using var capture = new CapturingLoggerProvider();
        using var logs = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Information));
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.TimeProvider = clock;
            o.CloseTimeout = TimeSpan.FromSeconds(30);
            o.LoggerFactory = logs;
        });
        using var ws = await WsWire.ConnectAsync(test.Server.Port);

        // A reserved opcode: the runtime answers 1002 itself. This client then sends nothing and keeps its end open.
        await ws.SendFrameAsync(0x3, []);
        Assert.Equal(1002, (await ws.ReadUntilCloseAsync())?.CloseCode);

        // The grace starts when the server has seen the failure (it logs it, then waits), which on a busy machine can be a
        // while after the client read the close frame: the clock moves only from then, and one step may pass before the
        // wait is armed.
        await TestServer.WaitUntilAsync(() => capture.Lines.Any(l => l.Contains("whose frames the WebSocket layer rejected", StringComparison.Ordinal)));
        var step = TimeSpan.FromMilliseconds(100);
        var tcpEnd = ws.ExpectTcpEndAsync();
        var waited = await clock.AdvanceUntilAsync(tcpEnd, step, limit: TimeSpan.FromSeconds(1) + step);
        await tcpEnd;
        Assert.True(waited <= TimeSpan.FromSeconds(1) + step, $"TCP was closed after {waited} of fake time");
    }
}
