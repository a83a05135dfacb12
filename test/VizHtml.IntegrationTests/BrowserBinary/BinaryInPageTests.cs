using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserBinary;

/// <summary>
/// Binary payloads between Chromium and the server (protocol version 2, capability <c>binary</c>): bytes both ways
/// without base64, mixed with JSON fields, the original toolkit's rendered-view image as bytes, and replay of binary events
/// across a forced reconnect.
/// </summary>
public sealed class BinaryInPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string PageName = "binary";

    private const int Megabyte = 1 << 20;

    /// <summary>
    /// Records every server event in <c>window.received</c>; <c>sha(bytes)</c> is a SHA-256 in hex; <c>randomBytes(n)</c>
    /// fills a Uint8Array; a <c>set_view</c> event shows its <c>data</c> bytes as a PNG in <c>#view</c>, as the original
    /// toolkit's sample showed its base64 (<c>'data:image/png;base64,' + e.data.data</c>).
    /// </summary>
    private const string Html = """
        <!DOCTYPE html>
        <html>
        <head>
          <meta charset="utf-8">
          <title>binary</title>
          <script src="vizhtml.js"></script>
        </head>
        <body>
          <img id="view" alt="view">
          <script>
            window.received = [];
            window.socket = new viz.WebSocket(undefined, { autoReconnect: true, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
            socket.onevent('*', function (e) { window.received.push({ event: e.event, data: e.data }); });
            socket.onevent('set_view', function (e) {
              const view = document.getElementById('view');
              view.src = URL.createObjectURL(new Blob([e.data.data], { type: 'image/png' }));
            });
            window.sha = async function (bytes) {
              const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
              return Array.from(digest, b => b.toString(16).padStart(2, '0')).join('');
            };
            window.randomBytes = function (n) {
              const bytes = new Uint8Array(n);
              for (let at = 0; at < n; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(n, at + 65536)));
              return bytes;
            };
            window.first = name => window.received.find(e => e.event === name);
          </script>
        </body>
        </html>
        """;

    private static readonly PageWaitForFunctionOptions Poll = new() { PollingInterval = 20 };

    [Theory]
    [OnEveryHost]
    public async Task AMegabyteFromTheServerArrivesIntactAsAUint8Array(TestHost host)
    {
        await using var server = await StartAsync(host);
        await using var context = await browser.NewContextAsync();
        var page = await OpenAsync(context, server.HttpBase);
        var bytes = RandomNumberGenerator.GetBytes(Megabyte);

        Assert.Equal(1, server.Server.SendAll("blob", bytes));
        await WaitAsync(page, "first('blob')");

        Assert.True(await EvalAsync<bool>(page, "first('blob').data instanceof Uint8Array"));
        Assert.Equal(Megabyte, await EvalAsync<int>(page, "first('blob').data.byteLength"));
        Assert.Equal(Sha(bytes), await EvalAsync<string>(page, "sha(first('blob').data)"));
    }

    [Theory]
    [OnEveryHost]
    public async Task AMegabyteFromThePageArrivesIntactAsByteArrayAndAsReadOnlyMemory(TestHost host)
    {
        await using var server = await StartAsync(host);
        var arrays = new EventLog<byte[]>();
        var memories = new EventLog<byte[]>();
        server.Server.OnMessage<byte[]>("up", (bytes, _) => arrays.Add(bytes));
        server.Server.OnMessage<ReadOnlyMemory<byte>>("up_memory", (bytes, _) => memories.Add(bytes.ToArray()));
        await using var context = await browser.NewContextAsync();
        var page = await OpenAsync(context, server.HttpBase);

        var sha = await EvalAsync<string>(
            page,
            """
            (async () => {
              const bytes = randomBytes(1 << 20);
              socket.send('up', bytes);
              socket.send('up_memory', bytes.buffer);
              return await sha(bytes);
            })()
            """);

        var array = Assert.Single(await arrays.WaitForCountAsync(1));
        var memory = Assert.Single(await memories.WaitForCountAsync(1));
        Assert.Equal(Megabyte, array.Length);
        Assert.Equal(sha, Sha(array));
        Assert.Equal(sha, Sha(memory));
    }

    public sealed record Frame(string Label, int Width, byte[] Image, ReadOnlyMemory<byte> Depth, Frame.Meta Info)
    {
        public sealed record Meta(string Unit, int[] Shape);
    }

    [Theory]
    [OnEveryHost]
    public async Task AMixedPayloadOfJsonFieldsAndTwoPartsGoesBothWays(TestHost host)
    {
        await using var server = await StartAsync(host);
        var frames = new EventLog<(Frame Frame, VizMessageEvent Event)>();
        server.Server.OnMessage<Frame>("frame", (frame, e) => frames.Add((frame, e)));
        await using var context = await browser.NewContextAsync();
        var page = await OpenAsync(context, server.HttpBase);

        // Server to page: the byte members become Uint8Arrays in place, the rest stays JSON.
        var image = RandomNumberGenerator.GetBytes(3000);
        var depth = RandomNumberGenerator.GetBytes(70_000);
        server.Server.SendAll("frame", new Frame("camera 1", 640, image, depth, new Frame.Meta("mm", [2, 3])));
        await WaitAsync(page, "first('frame')");
        var seen = await EvalAsync<JsonElement>(
            page,
            """
            (async () => {
              const d = first('frame').data;
              return { label: d.label, width: d.width, unit: d.info.unit, shape: d.info.shape,
                       image: d.image instanceof Uint8Array && await sha(d.image), depth: d.depth instanceof Uint8Array && await sha(d.depth) };
            })()
            """);
        Assert.Equal("camera 1", seen.GetProperty("label").GetString());
        Assert.Equal(640, seen.GetProperty("width").GetInt32());
        Assert.Equal("mm", seen.GetProperty("unit").GetString());
        Assert.Equal([2, 3], seen.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(Sha(image), seen.GetProperty("image").GetString());
        Assert.Equal(Sha(depth), seen.GetProperty("depth").GetString());

        // Page to server: a typed array and a Blob among JSON fields, bound to byte[] and ReadOnlyMemory<byte> members.
        var hashes = await EvalAsync<string[]>(
            page,
            """
            (async () => {
              const image = randomBytes(5000), depth = randomBytes(100000);
              socket.send('frame', { label: 'page', width: 3, image: new DataView(image.buffer), depth: new Blob([depth]), info: { unit: 'px', shape: [1] } });
              return [await sha(image), await sha(depth)];
            })()
            """);
        var (frame, e) = Assert.Single(await frames.WaitForCountAsync(1));
        Assert.Equal("page", frame.Label);
        Assert.Equal(3, frame.Width);
        Assert.Equal("px", frame.Info.Unit);
        Assert.Equal([1], frame.Info.Shape);
        Assert.Equal(hashes[0], Sha(frame.Image));
        Assert.Equal(hashes[1], Sha(frame.Depth.ToArray()));

        // The same bytes from the event itself: the parts, and a placeholder resolved.
        Assert.Equal(2, e.Parts.Count);
        Assert.Equal(hashes[1], Sha(e.GetBytes(e.Data["depth"]).ToArray()));
    }

    [Theory]
    [OnEveryHost]
    public async Task TextAndBinarySendsFromThePageArriveInSendOrder(TestHost host)
    {
        await using var server = await StartAsync(host);
        var order = new EventLog<string>();
        server.Server.OnMessage(e => order.Add(e.Parts.Count > 0 ? $"{e.Event}:{e.Parts[0].Length}" : $"{e.Event}:{e.Data.ToJson()}"));
        await using var context = await browser.NewContextAsync();
        var page = await OpenAsync(context, server.HttpBase);

        await EvalAsync<bool>(
            page,
            """
            (() => {
              socket.send('a', 1);
              socket.send('b', new Blob([new Uint8Array(200000)]));
              socket.send('c', 2);
              socket.send('d', new Uint8Array(10));
              socket.send('e', 3);
              return true;
            })()
            """);

        Assert.Equal(["a:1", "b:200000", "c:2", "d:10", "e:3"], await order.WaitForCountAsync(5));
    }

    [Theory]
    [OnEveryHost]
    public async Task TheRenderedViewImageOfTheOriginalSampleWorksWithBytesInsteadOfBase64(TestHost host)
    {
        await using var server = await StartAsync(host);

        // A rendered view: a screenshot of a page, as the original rendered its scene into a PNG.
        await using var context = await browser.NewContextAsync();
        var scene = await context.NewPageAsync();
        await scene.SetViewportSizeAsync(320, 200);
        await scene.SetContentAsync("<body style='margin:0;background:linear-gradient(red,blue)'><h1>view</h1></body>");
        var png = await scene.ScreenshotAsync();
        var (width, height) = (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));

        // As the sample does: on connect to the new client, and to every client afterwards.
        server.Server.OnConnect(e => e.Client.Send("set_view", new { data = png }));
        var page = await OpenAsync(context, server.HttpBase);
        await WaitAsync(page, "document.getElementById('view').complete && document.getElementById('view').naturalWidth > 0");
        Assert.Equal(width, await EvalAsync<int>(page, "document.getElementById('view').naturalWidth"));
        Assert.Equal(height, await EvalAsync<int>(page, "document.getElementById('view').naturalHeight"));
        Assert.Equal(Sha(png), await EvalAsync<string>(page, "sha(first('set_view').data.data)"));

        server.Server.SendAll("set_view", new { data = png });
        await WaitAsync(page, "window.received.filter(e => e.event === 'set_view').length === 2");
        Assert.Equal(Sha(png), await EvalAsync<string>(page, "sha(window.received.filter(e => e.event === 'set_view')[1].data.data)"));
    }

    [Theory]
    [OnEveryHost]
    public async Task BinaryEventsSentWhileThePageIsCutOffAreReplayedIntactAndInOrderOnResume(TestHost host)
    {
        await using var server = await StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        server.Server.OnConnect(connects.Add);
        server.Server.OnDisconnect(disconnects.Add);
        await using var proxy = new Faults.FaultProxy(server.Server.Port);
        await using var context = await browser.NewContextAsync();
        var page = await OpenAsync(context, proxy.HttpBase);
        var client = Assert.Single(await connects.WaitForCountAsync(1)).Client;

        var chunks = Enumerable.Range(0, 6).Select(i => RandomNumberGenerator.GetBytes(100_000 + i)).ToArray();
        Assert.True(client.Send("chunk", new { index = 0, bytes = chunks[0] }));
        await WaitAsync(page, "window.received.length >= 1");

        proxy.GoDown();
        await disconnects.WaitForCountAsync(1);
        await WaitAsync(page, "!socket.isConnected()");
        for (var i = 1; i < chunks.Length; i++)
        {
            // Alone and broadcast: both are kept for the page, with text events between them.
            Assert.True(i % 2 == 0 ? client.Send("chunk", new { index = i, bytes = chunks[i] }) : server.Server.SendAll("chunk", new { index = i, bytes = chunks[i] }) == 0);
            client.Send("text", i);
        }

        proxy.GoUp();
        var resumed = (await connects.WaitForCountAsync(2))[1];
        Assert.True(resumed.Resumed);
        Assert.True(resumed.Recovered);
        await WaitAsync(page, "window.received.filter(e => e.event === 'chunk').length >= arg", chunks.Length);

        var got = await EvalAsync<string[]>(
            page,
            """
            (async () => {
              const out = [];
              for (const e of window.received) out.push(e.event === 'chunk' ? e.data.index + ':' + await sha(e.data.bytes) : 'text ' + e.data);
              return out;
            })()
            """);
        var expected = new List<string> { $"0:{Sha(chunks[0])}" };
        for (var i = 1; i < chunks.Length; i++)
        {
            expected.Add($"{i}:{Sha(chunks[i])}");
            expected.Add($"text {i}");
        }

        Assert.Equal(expected, got);
    }

    private static async Task<TestServer> StartAsync(TestHost host)
    {
        var server = await TestServer.StartAsync(host);
        server.Server.RegisterHtml(PageName, Html);
        return server;
    }

    private static async Task<IPage> OpenAsync(IBrowserContext context, Uri httpBase)
    {
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        await page.GotoAsync($"{httpBase}vizhtml/{PageName}/");
        await WaitAsync(page, "socket.isConnected()");
        return page;
    }

    private static Task<IJSHandle> WaitAsync(IPage page, string expression, object? arg = null) =>
        page.WaitForFunctionAsync($"arg => {expression}", arg, Poll);

    private static Task<T> EvalAsync<T>(IPage page, string expression, object? arg = null) =>
        page.EvaluateAsync<T>($"arg => {expression}", arg).WaitAsync(TestServer.Timeout);

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
