using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Diagnostics;

/// <summary>
/// The <c>VizHtml</c> activity source, seen by an <see cref="ActivityListener"/>: one span per run of handlers. A request
/// handler's span is the child of the request's own activity (ASP.NET Core's, continuing the browser's trace); an event
/// from a browser has no caller in this process, so its span starts a trace of its own, even on a thread where the
/// socket's long-lived request activity is current. Spans of other tests' servers are told apart by client id, event name,
/// page name or trace id.
/// </summary>
public sealed class TracingTests
{
    [Theory]
    [OnEveryHost]
    public async Task EachRunOfHandlersForAnEventFromABrowserIsOneSpanOfItsOwnTrace(TestHost host)
    {
        using var spans = new SpanRecorder();
        await using var test = await TestServer.StartAsync(host);
        var eventName = "m" + Guid.NewGuid().ToString("N")[..12];
        var messages = new EventLog<VizMessageEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        var current = new ConcurrentQueue<string?>();
        test.Server.OnMessage(eventName, e =>
        {
            // The handler runs inside its span.
            current.Enqueue(Activity.Current?.OperationName);
            messages.Add(e);
        });
        test.Server.OnDisconnect(disconnects.Add);
        var (client, serverSide) = await test.ConnectAsync();
        using (client)
        {
            await client.SendAsync(eventName, 1);
            await client.SendAsync(eventName, 2);
            await client.SendAsync("nobody-listens-" + eventName, 3);
            await messages.WaitForCountAsync(2);
            await client.Socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            await disconnects.WaitForCountAsync(1);
        }

        // The connect handler TestServer registers, two messages, one disconnect; the message nobody handles has no span.
        var mine = await spans.WaitForAsync(s => Equals(s.GetTagItem("vizhtml.client.id"), serverSide.Id), 4);
        Assert.Equal(["vizhtml.connect", "vizhtml.message", "vizhtml.message", "vizhtml.disconnect"], mine.Select(s => s.OperationName));
        Assert.All(mine.Where(s => s.OperationName == "vizhtml.message"), s => Assert.Equal(eventName, s.GetTagItem("vizhtml.event")));
        Assert.Equal("ClientClosed", mine[3].GetTagItem("vizhtml.disconnect.reason"));
        Assert.All(mine, s =>
        {
            Assert.Equal("VizHtml", s.Source.Name);
            Assert.Null(s.Parent);
            Assert.Equal(default, s.ParentSpanId);
        });
        Assert.Equal(4, mine.Select(s => s.TraceId).Distinct().Count());
        Assert.Equal(["vizhtml.message", "vizhtml.message"], current);
    }

    [Theory]
    [OnEveryHost]
    public async Task ARequestHandlerAndTheFormSubmitHandlersAfterItAreSpansInsideTheRequestsTrace(TestHost host)
    {
        using var spans = new SpanRecorder();
        await using var test = await TestServer.StartAsync(host);
        var page = "p" + Guid.NewGuid().ToString("N")[..12];
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        test.Server.RegisterHandler(page, async request =>
        {
            await Task.Yield();
            return request.Method == "GET" ? VizResponse.Text("ok") : null;
        });
        // No redirects followed: the declined POST is answered with one (to the page), which would be a third request.
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = test.HttpBase };

        // The browser's (or a proxy's) trace: ASP.NET Core continues it, and VizHtml's spans sit inside the request's activity.
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var get = new HttpRequestMessage(HttpMethod.Get, $"vizhtml/{page}/");
        get.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        Assert.Equal("ok", await (await http.SendAsync(get)).Content.ReadAsStringAsync());
        using var post = new HttpRequestMessage(HttpMethod.Post, $"vizhtml/{page}/") { Content = new StringContent("a=1", Encoding.UTF8, "application/x-www-form-urlencoded") };
        post.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        post.Headers.Add("Origin", test.HttpBase.GetLeftPart(UriPartial.Authority));
        Assert.True((int)(await http.SendAsync(post)).StatusCode is >= 200 and < 400);
        await forms.WaitForCountAsync(1);

        var inTrace = await spans.WaitForAsync(s => s.TraceId == traceId && s.Source.Name == "VizHtml", 3);
        var requests = spans.All.Where(s => s.TraceId == traceId && s.Source.Name == "Microsoft.AspNetCore").ToList();
        Assert.Equal(["vizhtml.form_submit", "vizhtml.request", "vizhtml.request"], inTrace.Select(s => s.OperationName).Order(StringComparer.Ordinal));
        if (host == TestHost.Standalone)
        {
            // No ASP.NET Core: VizHtml continues the traceparent header itself, so its spans are the caller's children.
            Assert.Empty(requests);
            Assert.All(inTrace, s =>
            {
                Assert.Equal(page, s.GetTagItem("vizhtml.page"));
                Assert.Equal(callerSpan, s.ParentSpanId);
                Assert.True(s.HasRemoteParent);
            });
            return;
        }

        Assert.Equal(2, requests.Count);
        Assert.All(requests, r => Assert.Equal(callerSpan, r.ParentSpanId));
        Assert.All(inTrace, s =>
        {
            Assert.Equal(page, s.GetTagItem("vizhtml.page"));
            Assert.Contains(requests, r => r.SpanId == s.ParentSpanId);
        });

        // The form-submit handlers run after the POST's handler, as children of the same request.
        var postRequest = inTrace.Single(s => s.OperationName == "vizhtml.form_submit").ParentSpanId;
        Assert.Equal(postRequest, inTrace.Single(s => s.OperationName == "vizhtml.request" && Equals(s.GetTagItem("http.request.method"), "POST")).ParentSpanId);
    }

    /// <summary>Every stopped span of the VizHtml and ASP.NET Core sources, all data recorded.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<Activity> _stopped = new();

        public SpanRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name is "VizHtml" or "Microsoft.AspNetCore",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<Activity> All => _stopped.ToArray();

        /// <summary>Waits until <paramref name="count"/> stopped spans match, then returns them in the order they started.</summary>
        public async Task<IReadOnlyList<Activity>> WaitForAsync(Func<Activity, bool> match, int count)
        {
            await TestServer.WaitUntilAsync(() => _stopped.Count(match) >= count);
            var matched = _stopped.Where(match).OrderBy(s => s.StartTimeUtc).ToList();
            Assert.True(count == matched.Count, $"expected {count} spans, saw {matched.Count}: {string.Join(", ", matched.Select(s => $"{s.OperationName} [{string.Join(' ', s.TagObjects.Select(t => $"{t.Key}={t.Value}"))}]"))}");
            return matched;
        }

        public void Dispose() => _listener.Dispose();
    }
}
