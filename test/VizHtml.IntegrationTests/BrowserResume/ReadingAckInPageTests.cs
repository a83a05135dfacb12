using System.Collections.Concurrent;
using System.Diagnostics;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserResume;

/// <summary>
/// A page that gets only unnumbered (latest, volatile) events still tells the server it is reading, every 5 s: the server
/// pings only a peer it has not heard from, and a slow page's pong can wait behind everything sent before it.
/// </summary>
public sealed class ReadingAckInPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Theory, OnOwnHosts]
    public async Task APageThatGetsOnlyUnnumberedEventsAcknowledgesAboutEveryFiveSeconds(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        await using var context = await browser.NewContextAsync();
        var acks = new ConcurrentQueue<TimeSpan>();
        var clock = Stopwatch.StartNew();
        context.Page += (_, page) => page.WebSocket += (_, socket) => socket.FrameSent += (_, frame) =>
        {
            if (frame.Text?.Contains("\"$ack\"", StringComparison.Ordinal) == true)
            {
                acks.Enqueue(clock.Elapsed);
            }
        };
        await ResumePage.OpenAsync(context, server.HttpBase, new { });
        await Task.Delay(500);
        var start = clock.Elapsed;

        while (clock.Elapsed - start < TimeSpan.FromSeconds(12))
        {
            server.Server.SendAll("pose", clock.ElapsedMilliseconds, VizDelivery.Volatile);
            await Task.Delay(100);
        }

        var times = acks.Where(t => t > start).ToArray();
        Assert.True(times.Length is >= 2 and <= 3, $"{times.Length} acknowledgements in 12 s: {string.Join(", ", times.Select(t => (t - start).TotalSeconds.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.True(pair.Second - pair.First > TimeSpan.FromSeconds(4.9), $"acknowledgements {(pair.Second - pair.First).TotalSeconds:F1} s apart"));
    }
}
