using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Http;
using VizHtml.IntegrationTests.Infrastructure;
using VizHtml.IntegrationTests.Time;

namespace VizHtml.IntegrationTests.Hosting;

/// <summary>
/// The standalone host's HTTP/1.1 over raw TCP: keep-alive, pipelining, closing, 100-continue, the limits and deadlines,
/// and the refusals. <c>[Theory, OnEveryHost]</c> where every host must answer alike; plain <c>[Fact]</c>s for what only
/// the standalone host does (or does differently, e.g. it refuses chunked bodies that Kestrel takes). The hostile-input
/// cases that need only a server with pages and a socket take a <see cref="PageServer"/> (<c>[Theory, OnPageHosts]</c>),
/// so they also run against the standalone host under Mono.
/// </summary>
public sealed class StandaloneHttpTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    private static Task<TestServer> StartAsync(TestHost host, Action<VizHtmlOptions>? configure = null) => TestServer.StartAsync(host, configure);

    private static Task<TestServer> StartStandaloneAsync(Action<VizHtmlOptions>? configure = null) => TestServer.StartAsync(TestHost.Standalone, configure);

    private static string Get(TestServer test, string target, params string[] headers) => Get(test.Port, target, headers);

    private static string Get(PageServer server, string target, params string[] headers) => Get(server.Port, target, headers);

    private static string Get(int port, string target, params string[] headers) =>
        $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{string.Concat(headers.Select(h => h + "\r\n"))}\r\n";

    [Theory, OnEveryHost]
    public async Task KeepAliveServesTwoRequestsOnOneConnection(TestHost host)
    {
        await using var test = await StartAsync(host);
        test.Server.RegisterHtml("p", "<p>one</p>");
        using var client = await Wire.ConnectAsync(test);

        await client.SendAsync(Get(test, "/vizhtml/p/"));
        var first = await client.ReadResponseAsync();
        await client.SendAsync(Get(test, "/vizhtml/p/"));
        var second = await client.ReadResponseAsync();

        Assert.Equal((200, "<p>one</p>"), (first.Status, first.Body));
        Assert.Equal((200, "<p>one</p>"), (second.Status, second.Body));
        Assert.NotEqual("close", first.Header("Connection"));
    }

    [Theory, OnPageHosts]
    public async Task PipelinedRequestsInOneWriteGetTheirResponsesInOrder(PageHost host)
    {
        await using var test = await PageServer.StartAsync(host);
        using var client = await Wire.ConnectAsync(test.Port);

        await client.SendAsync(Get(test, "/vizhtml/a/") + Get(test, "/vizhtml/b/") + Get(test, "/vizhtml/missing/"));

        Assert.Equal("<p>first</p>", (await client.ReadResponseAsync()).Body);
        Assert.Equal("<p>second</p>", (await client.ReadResponseAsync()).Body);
        Assert.Equal(404, (await client.ReadResponseAsync()).Status);
    }

    [Theory, OnEveryHost]
    public async Task ConnectionCloseIsHonoured(TestHost host)
    {
        await using var test = await StartAsync(host);
        test.Server.RegisterHtml("p", "<p>one</p>");
        using var client = await Wire.ConnectAsync(test);

        await client.SendAsync(Get(test, "/vizhtml/p/", "Connection: close"));
        var response = await client.ReadResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await client.ClosedAsync(TestServer.Timeout));
    }

    [Theory, OnEveryHost]
    public async Task Http10GetsOneResponseAndTheConnectionCloses(TestHost host)
    {
        await using var test = await StartAsync(host);
        test.Server.RegisterHtml("p", "<p>one</p>");
        using var client = await Wire.ConnectAsync(test);

        await client.SendAsync($"GET /vizhtml/p/ HTTP/1.0\r\nHost: 127.0.0.1:{test.Port}\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal((200, "<p>one</p>"), (response.Status, response.Body));
        Assert.True(await client.ClosedAsync(TestServer.Timeout));
    }

    [Fact]
    public async Task Http10WithKeepAliveKeepsTheConnection()
    {
        await using var test = await StartStandaloneAsync();
        test.Server.RegisterHtml("p", "<p>one</p>");
        using var client = await Wire.ConnectAsync(test);

        var request = $"GET /vizhtml/p/ HTTP/1.0\r\nHost: 127.0.0.1:{test.Port}\r\nConnection: keep-alive\r\n\r\n";
        await client.SendAsync(request + request);

        Assert.Equal("keep-alive", (await client.ReadResponseAsync()).Header("Connection"));
        Assert.Equal("<p>one</p>", (await client.ReadResponseAsync()).Body);
    }

    [Theory, OnEveryHost]
    public async Task ExpectContinueOnAFormPostGets100ThenTheAnswer(TestHost host)
    {
        await using var test = await StartAsync(host);
        test.Server.RegisterHtml("survey", "<form method=post></form>");
        var submitted = test.Server.WaitFormSubmitAsync();
        using var client = await Wire.ConnectAsync(test);
        const string Body = "name=Ada&color=red";

        await client.SendAsync($"POST /vizhtml/survey/ HTTP/1.1\r\nHost: 127.0.0.1:{test.Port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {Body.Length}\r\nExpect: 100-continue\r\n\r\n");
        var interim = await client.ReadResponseAsync();
        Assert.Equal(100, interim.Status);
        await client.SendAsync(Body);
        var response = await client.ReadResponseAsync();

        Assert.Equal(303, response.Status);
        var form = await submitted.WaitAsync(TestServer.Timeout);
        Assert.Equal("Ada", form["name"]);
        Assert.Equal("red", form["color"]);
    }

    [Theory, OnPageHosts(PageHost.Standalone, PageHost.Mono)]
    public async Task AChunkedFormPostIs411AndTheConnectionCloses(PageHost host)
    {
        await using var test = await PageServer.StartAsync(host);
        using var client = await Wire.ConnectAsync(test.Port);

        await client.SendAsync($"POST /vizhtml/survey/ HTTP/1.1\r\nHost: 127.0.0.1:{test.Port}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nname=A\r\n0\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal(411, response.Status);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await client.ClosedAsync(TestServer.Timeout));
        Assert.DoesNotContain("form", test.Reports.Items);
    }

    [Theory, OnPageHosts]
    public async Task AMalformedRequestLineIs400(PageHost host)
    {
        await using var test = await PageServer.StartAsync(host);
        using var client = await Wire.ConnectAsync(test.Port);

        await client.SendAsync($"GET/vizhtml/p/ HTTP/1.1\r\nHost: 127.0.0.1:{test.Port}\r\n\r\n");

        Assert.Equal(400, (await client.ReadResponseAsync()).Status);
        Assert.True(await client.ClosedAsync(TestServer.Timeout));
    }

    [Theory, OnPageHosts]
    public async Task ARequestLineOver8KiBIs414(PageHost host)
    {
        await using var test = await PageServer.StartAsync(host);
        using var client = await Wire.ConnectAsync(test.Port);

        await client.SendAsync(Get(test, "/vizhtml/" + new string('a', 9000)));

        Assert.Equal(414, (await client.ReadResponseAsync()).Status);
        Assert.True(await client.ClosedAsync(TestServer.Timeout));
    }

    [Theory, OnPageHosts]
    public async Task MoreThan100HeadersIs431(PageHost host)
    {
        await using var test = await PageServer.StartAsync(host);
        using var client = await Wire.ConnectAsync(test.Port);

        await client.SendAsync(Get(test, "/vizhtml/p/", [.. Enumerable.Range(0, 101).Select(i => $"X-H{i}: {i}")]));

        Assert.Equal(431, (await client.ReadResponseAsync()).Status);
        Assert.True(await client.ClosedAsync(TestServer.Timeout));
    }

    [Fact]
    public async Task HeadersOver40KiBIs431()
    {
        await using var test = await StartStandaloneAsync();
        using var client = await Wire.ConnectAsync(test);

        await client.SendAsync(Get(test, "/vizhtml/p/", [.. Enumerable.Range(0, 50).Select(i => $"X-H{i}: {new string('v', 1000)}")]));

        Assert.Equal(431, (await client.ReadResponseAsync()).Status);
        Assert.True(await client.ClosedAsync(TestServer.Timeout));
    }

    /// <summary>Under Mono the deadline is real (1 s) and so is the waiting; in process it runs on a fake clock.</summary>
    [Theory, OnPageHosts(PageHost.Standalone, PageHost.Mono)]
    public async Task ASlowlorisClientIsClosedOnceTheHandshakeTimeoutPassesAndNotBefore(PageHost host)
    {
        await using var test = await PageServer.StartAsync(host);
        using var client = await Wire.ConnectAsync(test.Port);
        var closed = client.ClosedAsync(TestServer.Timeout);
        test.StartTiming();

        // One header byte per step (a fifth of the deadline), never the empty line: progress does not extend the deadline.
        var headers = Encoding.ASCII.GetBytes(Get(test, "/vizhtml/", "X-Slow: " + new string('s', 100)));
        for (var i = 0; !closed.IsCompleted && i < 30; i++)
        {
            try
            {
                await client.Socket.SendAsync(headers.AsMemory(i, 1));
            }
            catch (SocketException)
            {
                break;
            }

            await test.StepAsync(closed);
        }

        Assert.True(await closed, "The connection is still open after 6 deadlines.");
        Assert.InRange(test.Elapsed, test.HandshakeTimeout - test.Step, test.HandshakeTimeout * 3);
    }

    [Theory, OnPageHosts(PageHost.Standalone, PageHost.Mono)]
    public async Task AnIdleKeptAliveConnectionIsClosedAfterTheTimeout(PageHost host)
    {
        await using var test = await PageServer.StartAsync(host);
        using var client = await Wire.ConnectAsync(test.Port);
        await client.SendAsync(Get(test, "/vizhtml/p/"));
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        var closed = client.ClosedAsync(TestServer.Timeout);

        var waited = await test.WaitUntilAsync(closed, test.HandshakeTimeout * 6);

        Assert.True(await closed);
        Assert.InRange(waited, test.HandshakeTimeout - test.Step, test.HandshakeTimeout * 3);
    }

    [Fact]
    public async Task StoppingClosesAKeptAliveConnectionThatWaitsForItsNextRequestAtOnce()
    {
        var clock = new FakeTimeProvider();
        await using var test = await StartStandaloneAsync(o =>
        {
            o.TimeProvider = clock;
            o.ShutdownTimeout = TimeSpan.FromMinutes(1);
        });
        test.Server.RegisterHtml("p", "<p>one</p>");
        using var client = await Wire.ConnectAsync(test);
        await client.SendAsync(Get(test, "/vizhtml/p/"));
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        var closed = client.ClosedAsync(TestServer.Timeout);

        // The grace period runs on the fake clock, which stands still: the stop ends only if the idle connection is closed at once.
        await test.Server.StopAsync().WaitAsync(TimeSpan.FromSeconds(5));

        Assert.True(await closed);
    }

    [Fact]
    public async Task ABodyThatStopsMidwayClosesTheConnectionRaisesNoFormAndOthersAreStillServed()
    {
        var clock = new FakeTimeProvider();
        await using var test = await StartStandaloneAsync(o =>
        {
            o.TimeProvider = clock;
            o.HandshakeTimeout = Deadline;
        });
        test.Server.RegisterHtml("survey", "<form method=post></form>");
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var client = await Wire.ConnectAsync(test);

        await client.SendAsync($"POST /vizhtml/survey/ HTTP/1.1\r\nHost: 127.0.0.1:{test.Port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=A");
        var closed = client.ClosedAsync(TestServer.Timeout);
        var advanced = await clock.AdvanceUntilAsync(closed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

        Assert.True(await closed);
        Assert.True(advanced >= Deadline, $"Closed after {advanced}");
        Assert.Empty(forms.Items);

        using var other = await Wire.ConnectAsync(test);
        await other.SendAsync(Get(test, "/vizhtml/survey/"));
        Assert.Equal(200, (await other.ReadResponseAsync()).Status);
    }

    [Theory, OnEveryHost]
    public async Task AClientThatDisconnectsMidRequestCancelsTheHandlersToken(TestHost host)
    {
        await using var test = await StartAsync(host, o => o.RequestHandlerTimeout = TimeSpan.FromMinutes(5));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        test.Server.RegisterHandler("slow", async request =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, request.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult();
            }

            return null;
        });
        var client = await Wire.ConnectAsync(test);

        await client.SendAsync(Get(test, "/vizhtml/slow/"));
        await started.Task.WaitAsync(TestServer.Timeout);
        client.Reset();

        await cancelled.Task.WaitAsync(TestServer.Timeout);
    }

    [Fact]
    public async Task RangeRequestsOnAPageResourceGet206Or416AndIfRangeDecides()
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>index</p>");
        dir.Write("site/data.txt", "0123456789");
        await using var test = await StartStandaloneAsync();
        test.Server.RegisterFolder("site", dir.PathOf("site"));
        using var client = await Wire.ConnectAsync(test);

        await client.SendAsync(Get(test, "/vizhtml/site/data.txt"));
        var whole = await client.ReadResponseAsync();
        Assert.Equal((200, "0123456789"), (whole.Status, whole.Body));
        Assert.Equal("bytes", whole.Header("Accept-Ranges"));
        var etag = whole.Header("ETag")!;

        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "Range: bytes=2-5"));
        var part = await client.ReadResponseAsync();
        Assert.Equal((206, "2345", "bytes 2-5/10"), (part.Status, part.Body, part.Header("Content-Range")));

        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "Range: bytes=-3"));
        Assert.Equal("789", (await client.ReadResponseAsync()).Body);

        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "Range: bytes=10-"));
        var past = await client.ReadResponseAsync();
        Assert.Equal((416, string.Empty, "bytes */10"), (past.Status, past.Body, past.Header("Content-Range")));

        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "Range: bytes=0-0", "If-Range: " + etag));
        Assert.Equal((206, "0"), await client.ReadStatusAndBodyAsync());

        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "Range: bytes=0-0", "If-Range: \"stale\""));
        Assert.Equal((200, "0123456789"), await client.ReadStatusAndBodyAsync());

        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "Range: bytes=0-1,4-5"));
        Assert.Equal((200, "0123456789"), await client.ReadStatusAndBodyAsync());
    }

    [Theory, OnEveryHost]
    public async Task HeadHasTheHeadersOfGetAndNoBody(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>index</p>");
        dir.Write("site/data.txt", "0123456789");
        await using var test = await StartAsync(host);
        test.Server.RegisterFolder("site", dir.PathOf("site"));
        test.Server.RegisterHtml("p", "<p>one</p>");
        using var client = await Wire.ConnectAsync(test);

        // Each HEAD is followed on the same connection by a GET: a body sent after a HEAD would be read as its response.
        await client.SendAsync(Get(test, "/vizhtml/site/data.txt").Replace("GET", "HEAD", StringComparison.Ordinal) + Get(test, "/vizhtml/p/"));
        var head = await client.ReadResponseAsync(isHead: true);
        Assert.Equal((200, "10"), (head.Status, head.Header("Content-Length")));
        Assert.Equal("<p>one</p>", (await client.ReadResponseAsync()).Body);

        await client.SendAsync(Get(test, "/vizhtml/p/").Replace("GET", "HEAD", StringComparison.Ordinal) + Get(test, "/vizhtml/p/"));
        var page = await client.ReadResponseAsync(isHead: true);
        Assert.Equal(200, page.Status);
        Assert.Equal("<p>one</p>", (await client.ReadResponseAsync()).Body);
    }

    [Theory, OnEveryHost]
    public async Task IfNoneMatchAndIfModifiedSinceGet304(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>index</p>");
        dir.Write("site/data.txt", "0123456789");
        await using var test = await StartAsync(host);
        test.Server.RegisterFolder("site", dir.PathOf("site"));
        using var client = await Wire.ConnectAsync(test);

        await client.SendAsync(Get(test, "/vizhtml/site/data.txt"));
        var whole = await client.ReadResponseAsync();
        var etag = whole.Header("ETag")!;
        var lastModified = whole.Header("Last-Modified")!;

        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "If-None-Match: " + etag));
        Assert.Equal((304, string.Empty), await client.ReadStatusAndBodyAsync());
        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "If-None-Match: \"other\", " + etag));
        Assert.Equal(304, (await client.ReadResponseAsync()).Status);
        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "If-Modified-Since: " + lastModified));
        Assert.Equal(304, (await client.ReadResponseAsync()).Status);
        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "If-None-Match: \"other\"", "If-Modified-Since: " + lastModified));
        Assert.Equal((200, "0123456789"), await client.ReadStatusAndBodyAsync());
        var longAgo = DateTimeOffset.UnixEpoch.ToString("r", CultureInfo.InvariantCulture);
        await client.SendAsync(Get(test, "/vizhtml/site/data.txt", "If-Modified-Since: " + longAgo));
        Assert.Equal((200, "0123456789"), await client.ReadStatusAndBodyAsync());
    }

    [Theory, OnEveryHost]
    public async Task AnUpgradeWithABadWebSocketVersionIs400FromTheEndpoint(TestHost host)
    {
        await using var test = await StartAsync(host);
        using var client = await Wire.ConnectAsync(test);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

        await client.SendAsync(Get(test, "/vizhtml/socket", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 8"));
        var response = await client.ReadResponseAsync();

        Assert.Equal(400, response.Status);
        Assert.Contains("WebSocket endpoint", response.Body, StringComparison.Ordinal);
        Assert.Equal(0, test.Server.ClientCount);
    }

    /// <summary>On the standalone host, the WebSocket's first (zero-byte) read once found no bytes on the socket, though the client had sent them with its upgrade.</summary>
    [Theory, OnPageHosts]
    public async Task FramesSentRightBehindTheUpgradeRequestInTheSameWriteReachTheServer(PageHost host)
    {
        await using var test = await PageServer.StartAsync(host);
        using var client = await Wire.ConnectAsync(test.Port);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var upgrade = Encoding.ASCII.GetBytes(Get(test, "/vizhtml/socket", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"));

        await client.Socket.SendAsync((byte[])[.. upgrade, .. MaskedText("{\"event\":\"early\",\"data\":1}"), .. MaskedText("{\"event\":\"early\",\"data\":2}")]);
        Assert.Equal(101, (await client.ReadResponseAsync(isHead: true)).Status);

        var received = await test.Reports.WaitForCountAsync(2).WaitAsync(TestServer.Timeout).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : throw new Xunit.Sdk.XunitException(test.Diagnostics), TaskScheduler.Default);
        Assert.Equal(["early 1", "early 2"], received);
    }

    private static byte[] MaskedText(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        Assert.True(payload.Length < 126);
        var mask = RandomNumberGenerator.GetBytes(4);
        return [0x81, (byte)(0x80 | payload.Length), .. mask, .. payload.Select((b, i) => (byte)(b ^ mask[i % 4]))];
    }

    /// <summary>A raw HTTP/1.1 client on one TCP connection: writes bytes as given and reads responses one at a time.</summary>
    private sealed class Wire : IDisposable
    {
        private readonly List<byte> _pending = [];

        private Wire(Socket socket) => Socket = socket;

        public Socket Socket { get; }

        public static Task<Wire> ConnectAsync(TestServer test) => ConnectAsync(test.Port);

        public static async Task<Wire> ConnectAsync(int port)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = new CancellationTokenSource(TestServer.Timeout);
            await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            return new Wire(socket);
        }

        public async Task SendAsync(string text) => await Socket.SendAsync(Encoding.ASCII.GetBytes(text));

        public async Task<(int Status, string Body)> ReadStatusAndBodyAsync()
        {
            var response = await ReadResponseAsync();
            return (response.Status, response.Body);
        }

        /// <summary>Reads one response: its head, and as many body bytes as its Content-Length says (none after HEAD, 1xx, 204, 304).</summary>
        public async Task<Response> ReadResponseAsync(bool isHead = false)
        {
            using var timeout = new CancellationTokenSource(TestServer.Timeout);
            int headEnd;
            while ((headEnd = IndexOfHeadEnd()) < 0)
            {
                await ReceiveMoreAsync("a response head", timeout.Token);
            }

            var head = Encoding.Latin1.GetString([.. _pending.Take(headEnd)]);
            _pending.RemoveRange(0, headEnd + 4);
            var lines = head.Split("\r\n");
            var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
            var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
            var length = isHead || status is < 200 or 204 or 304 || !headers.TryGetValue("Content-Length", out var value) ? 0 : int.Parse(value, CultureInfo.InvariantCulture);
            Assert.False(headers.ContainsKey("Transfer-Encoding"), "This client reads Content-Length bodies only.");
            while (_pending.Count < length)
            {
                await ReceiveMoreAsync("a response body", timeout.Token);
            }

            var body = Encoding.UTF8.GetString([.. _pending.Take(length)]);
            _pending.RemoveRange(0, length);
            return new Response(status, headers, body);
        }

        /// <summary>Whether the server closes the connection (FIN or RST) within <paramref name="within"/>, with nothing more sent.</summary>
        public async Task<bool> ClosedAsync(TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var read = await Socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                    if (read == 0)
                    {
                        return _pending.Count == 0;
                    }

                    _pending.AddRange(buffer.AsSpan(0, read));
                }
            }
            catch (SocketException)
            {
                return _pending.Count == 0;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        /// <summary>Closes with SO_LINGER 0: the server sees a reset.</summary>
        public void Reset()
        {
            Socket.LingerState = new LingerOption(true, 0);
            Socket.Close();
        }

        public void Dispose() => Socket.Dispose();

        private int IndexOfHeadEnd()
        {
            for (var i = 0; i + 3 < _pending.Count; i++)
            {
                if (_pending[i] == '\r' && _pending[i + 1] == '\n' && _pending[i + 2] == '\r' && _pending[i + 3] == '\n')
                {
                    return i;
                }
            }

            return -1;
        }

        private async Task ReceiveMoreAsync(string what, CancellationToken cancellationToken)
        {
            var buffer = new byte[16 * 1024];
            var read = await Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new IOException($"The server closed the connection before {what}; had: {Encoding.Latin1.GetString([.. _pending])}");
            }

            _pending.AddRange(buffer.AsSpan(0, read));
        }
    }

    private sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
    }
}
