using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserResume;

/// <summary>
/// How often vizhtml.js acknowledges what it receives (docs/protocol.md): after 128 events, 256 KB of frames, or 1 s after
/// the first unacknowledged one. Each <c>$ack</c> wakes the server, so a steady stream costs about one a second; the byte
/// bound keeps what the server holds for a stream of large payloads small. The page's behaviour, so one host is enough.
/// </summary>
public sealed partial class AckCadenceInPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task ASteadyStreamOfSmallEventsIsAcknowledgedAboutOnceASecond()
    {
        await using var server = await TestServer.StartAsync(TestHost.Embedded);
        await using var context = await browser.NewContextAsync();
        var acks = await OpenAsync(server, context);

        // About 60 events a second, as a frame loop sends: 128 events take 2 s, so the time bound decides.
        var sent = 0;
        while (acks.Clock.Elapsed < TimeSpan.FromSeconds(3.5))
        {
            server.Server.SendAll("pose", ++sent);
            await Task.Delay(16);
        }

        await Task.Delay(1500);
        var times = acks.Items.Select(a => a.At).ToArray();
        var described = string.Join(", ", times.Select(t => t.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)));

        // At the old cadence (250 ms) this stream drew about 15; at 1 s, 3 or 4 (the last one a second after the stream ends).
        Assert.True(times.Length is >= 3 and <= 5, $"{times.Length} acknowledgements for {sent} events in 3.5 s: {described}");
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.True(pair.Second - pair.First > TimeSpan.FromSeconds(0.8), $"acknowledgements {(pair.Second - pair.First).TotalSeconds:F2} s apart: {described}"));

        // And the last one covers everything: the server holds nothing for a resume.
        Assert.Equal(sent, acks.Items.Last().Seq);
    }

    [Fact]
    public async Task AStreamOfLargePayloadsIsAcknowledgedEvery256KB()
    {
        await using var server = await TestServer.StartAsync(TestHost.Embedded);
        await using var context = await browser.NewContextAsync();
        var acks = await OpenAsync(server, context);

        // 64 KB events ten times a second: four of them pass 256 KB, well before a second has gone by.
        var payload = new string('x', 64 * 1024);
        for (var i = 0; i < 20; i++)
        {
            server.Server.SendAll("image", payload);
            await Task.Delay(100);
        }

        await TestServer.WaitUntilAsync(() => acks.Items.Count >= 5);
        var seqs = acks.Items.Select(a => a.Seq).ToArray();

        // Each acknowledgement after the first covers the four events (or five, when two shared a frame) since the one before.
        Assert.All(seqs.Zip(seqs.Skip(1)), pair => Assert.InRange(pair.Second - pair.First, 4, 5));
    }

    /// <summary>Opens the page and records the <c>$ack</c>s it sends once it is connected, timed from then.</summary>
    private static async Task<AckLog> OpenAsync(TestServer server, IBrowserContext context)
    {
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        var acks = new AckLog();
        context.Page += (_, page) => page.WebSocket += (_, socket) => socket.FrameSent += (_, frame) =>
        {
            if (frame.Text is { } text && AckSeq().Match(text) is { Success: true } match)
            {
                acks.Add(long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        };
        await ResumePage.OpenAsync(context, server.HttpBase, new { });
        await connects.WaitForCountAsync(1);
        acks.Start();
        return acks;
    }

    /// <summary>The page's acknowledgements from <see cref="Start"/> on: when (on <see cref="Clock"/>) and up to which seq.</summary>
    private sealed class AckLog
    {
        private volatile bool _started;

        public Stopwatch Clock { get; } = new();

        public ConcurrentQueue<(TimeSpan At, long Seq)> Items { get; } = new();

        public void Start()
        {
            Clock.Start();
            _started = true;
        }

        public void Add(long seq)
        {
            if (_started)
            {
                Items.Enqueue((Clock.Elapsed, seq));
            }
        }
    }

    [GeneratedRegex("""^\{"event":"\$ack","data":\{"seq":(\d+)\}\}$""")]
    private static partial Regex AckSeq();
}
