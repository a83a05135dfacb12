using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Diagnostics;

/// <summary>
/// The <c>VizHtml</c> meter, seen by a <see cref="MeterListener"/> through a scripted session: every instrument moves as the
/// README's table says. The server's meter comes from a meter factory of the test's own, and the listener takes only that
/// factory's instruments, so the servers of tests running alongside cannot add to what it sees.
/// </summary>
public sealed class MetricsTests
{
    /// <summary>Every instrument the README documents, by name.</summary>
    private static readonly string[] Documented =
    [
        "vizhtml.connections.current",
        "vizhtml.sessions.away",
        "vizhtml.send_queue.messages",
        "vizhtml.send_queue.bytes",
        "vizhtml.connections.opened",
        "vizhtml.connections.closed",
        "vizhtml.sessions.resumes",
        "vizhtml.events.received",
        "vizhtml.events.sent",
        "vizhtml.events.dropped",
        "vizhtml.events.coalesced",
        "vizhtml.bytes.received",
        "vizhtml.bytes.sent",
        "vizhtml.handler.duration",
        "vizhtml.request_handler.duration",
        "vizhtml.requests.refused",
    ];

    private static readonly string Chunk = new('x', 16 * 1024);

    [Theory]
    [OnEveryHost]
    public async Task EveryInstrumentMovesAsDocumentedThroughAScriptedSession(TestHost host)
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var metrics = new Recorder(factory);
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.MeterFactory = factory;
            o.MaxQueuedMessages = 64;
            o.MaxQueuedBytes = 256 * 1024;
        });
        Assert.Equal(Documented.Order(StringComparer.Ordinal), metrics.Published.Order(StringComparer.Ordinal));

        test.Server.SetDelivery("latest", VizDelivery.Latest);
        test.Server.SetDelivery("volatile", VizDelivery.Volatile);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        var messages = new EventLog<VizMessageEvent>();
        test.Server.OnConnect(connects.Add);
        test.Server.OnDisconnect(disconnects.Add);
        test.Server.OnMessage("m", messages.Add);
        test.Server.RegisterHandler("api", _ => VizResponse.Text("ok"));
        test.Server.RegisterHtml("p", "<p>page</p>");

        // A version 2 client connects: a connection, a connect handler run.
        using var client = await V2.ConnectAsync(test);
        var welcome = await client.HelloAsync(token: null);
        await connects.WaitForCountAsync(1);
        Assert.Equal(1, metrics.Sum("vizhtml.connections.opened", "vizhtml.protocol.version=2"));
        Assert.Equal(1, metrics.Observe("vizhtml.connections.current"));
        await TestServer.WaitUntilAsync(() => metrics.Count("vizhtml.handler.duration", "vizhtml.handler.kind=connect") == 1);

        // Three messages in: counted, their bytes (and the hello's) counted, each handler run timed.
        for (var seq = 1; seq <= 3; seq++)
        {
            await client.SendAsync(new JsonObject { ["event"] = "m", ["data"] = seq, ["seq"] = seq });
        }

        await messages.WaitForCountAsync(3);
        await TestServer.WaitUntilAsync(() => metrics.Count("vizhtml.handler.duration", "vizhtml.handler.kind=message") == 3);
        Assert.Equal(3, metrics.Sum("vizhtml.events.received"));
        Assert.Equal(client.BytesSent, metrics.Sum("vizhtml.bytes.received"));

        // One broadcast of each delivery class: each counted once, in its class.
        Assert.Equal(1, test.Server.SendAll("reliable", 1));
        Assert.Equal(1, test.Server.SendAll("latest", 2));
        Assert.Equal(1, test.Server.SendAll("volatile", 3));
        Assert.Equal(["reliable", "latest", "volatile"], [await client.ReceiveEventAsync(), await client.ReceiveEventAsync(), await client.ReceiveEventAsync()]);
        Assert.Equal(1, metrics.Sum("vizhtml.events.sent", "vizhtml.delivery=reliable"));
        Assert.Equal(1, metrics.Sum("vizhtml.events.sent", "vizhtml.delivery=latest"));
        Assert.Equal(1, metrics.Sum("vizhtml.events.sent", "vizhtml.delivery=volatile"));

        // SendAllAsync and a send to one client count as SendAll does.
        var written = test.Server.SendAllAsync("reliable", 4);
        Assert.Equal("reliable", await client.ReceiveEventAsync());
        Assert.Equal(1, await written.WaitAsync(TestServer.Timeout));
        Assert.True(connects.Items[0].Client.Send("reliable", 5));
        Assert.Equal("reliable", await client.ReceiveEventAsync());
        Assert.Equal(3, metrics.Sum("vizhtml.events.sent", "vizhtml.delivery=reliable"));
        await TestServer.WaitUntilAsync(() => metrics.Observe("vizhtml.bytes.sent") >= client.BytesReceived);

        // A version 1 client that never reads: latest values replace each other in its queue, volatile ones are dropped
        // once the queue is full, and the first reliable one that does not fit disconnects it as slow.
        var (stalled, stalledServerSide) = await test.ConnectAsync();
        using var _s = stalled;
        Assert.Equal(1, metrics.Sum("vizhtml.connections.opened", "vizhtml.protocol.version=1"));
        var latestSends = 0;
        while (metrics.Sum("vizhtml.events.coalesced") == 0)
        {
            Assert.True(stalledServerSide.Send("latest", Chunk));
            Assert.True(++latestSends < 100_000, "no latest value ever replaced a pending one");
        }

        int volatileQueued = 0, volatileDropped = 0;
        while (volatileDropped < 3)
        {
            if (stalledServerSide.Send("volatile", Chunk))
            {
                volatileQueued++;
            }
            else
            {
                volatileDropped++;
            }

            Assert.True(volatileQueued < 100_000, "the queue never filled");
        }

        Assert.True(metrics.Observe("vizhtml.send_queue.messages") > 0);
        Assert.True(metrics.Observe("vizhtml.send_queue.bytes") > Chunk.Length);
        var reliableQueued = 0;
        while (stalledServerSide.Send("reliable", Chunk))
        {
            Assert.True(++reliableQueued < 100_000, "the queue never overflowed");
        }

        Assert.Equal(1 + latestSends, metrics.Sum("vizhtml.events.sent", "vizhtml.delivery=latest"));
        Assert.Equal(1 + volatileQueued, metrics.Sum("vizhtml.events.sent", "vizhtml.delivery=volatile"));
        Assert.Equal(3 + reliableQueued, metrics.Sum("vizhtml.events.sent", "vizhtml.delivery=reliable"));
        Assert.Equal(volatileDropped, metrics.Sum("vizhtml.events.dropped", "vizhtml.delivery=volatile"));
        Assert.Equal(1, metrics.Sum("vizhtml.events.dropped", "vizhtml.delivery=reliable"));
        Assert.Equal(0, metrics.Sum("vizhtml.events.dropped", "vizhtml.delivery=latest"));
        Assert.Equal(VizDisconnectReason.SlowConsumer, (await disconnects.WaitForCountAsync(1))[0].Reason);
        Assert.Equal(1, metrics.Sum("vizhtml.connections.closed", "vizhtml.disconnect.reason=slow_consumer"));

        // The version 2 client's network drops: away; it comes back with its token and misses nothing; a client with a
        // token the server never gave starts a new session.
        connects.Items[0].Client.Session.Connection.Abort();
        await disconnects.WaitForCountAsync(2);
        Assert.Equal(1, metrics.Sum("vizhtml.connections.closed", "vizhtml.disconnect.reason=connection_lost"));
        Assert.Equal(1, metrics.Observe("vizhtml.sessions.away"));
        Assert.Equal(0, metrics.Observe("vizhtml.connections.current"));
        using var resumed = await V2.ConnectAsync(test);
        Assert.True((await resumed.HelloAsync(welcome["token"]!.GetValue<string>(), client.LastSeq))["recovered"]!.GetValue<bool>());
        using var stranger = await V2.ConnectAsync(test);
        Assert.False((await stranger.HelloAsync("not-a-token"))["resumed"]!.GetValue<bool>());
        await connects.WaitForCountAsync(4);
        Assert.Equal(1, metrics.Sum("vizhtml.sessions.resumes", "vizhtml.resume.outcome=recovered"));
        Assert.Equal(1, metrics.Sum("vizhtml.sessions.resumes", "vizhtml.resume.outcome=unknown_session"));
        Assert.Equal(0, metrics.Sum("vizhtml.sessions.resumes", "vizhtml.resume.outcome=unrecovered"));
        Assert.Equal(3, metrics.Sum("vizhtml.connections.opened", "vizhtml.protocol.version=2"));
        Assert.Equal(0, metrics.Observe("vizhtml.sessions.away"));
        Assert.Equal(2, metrics.Observe("vizhtml.connections.current"));

        // A cross-site post is refused by the origin rule; a request handler answers.
        using var http = new HttpClient { BaseAddress = test.HttpBase };
        using var crossSite = new HttpRequestMessage(HttpMethod.Post, "vizhtml/p/") { Content = new StringContent("a=1", Encoding.UTF8, "application/x-www-form-urlencoded") };
        crossSite.Headers.Add("Origin", "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(crossSite)).StatusCode);
        Assert.Equal(1, metrics.Sum("vizhtml.requests.refused", "vizhtml.refusal.rule=origin"));
        Assert.Equal(1, metrics.Sum("vizhtml.requests.refused"));
        Assert.Equal("ok", await http.GetStringAsync("vizhtml/api/"));
        await TestServer.WaitUntilAsync(() => metrics.Count("vizhtml.request_handler.duration", "vizhtml.request_handler.outcome=answered") == 1);

        // Both close: every client gone, every queue empty; the bytes written to the connections that ended stay counted.
        var bytesBefore = metrics.Observe("vizhtml.bytes.sent");
        Assert.True(bytesBefore >= client.BytesReceived, $"bytes sent {bytesBefore}, while the first client alone received {client.BytesReceived}");
        await resumed.CloseAsync();
        await stranger.CloseAsync();
        await disconnects.WaitForCountAsync(4);
        Assert.Equal(2, metrics.Sum("vizhtml.connections.closed", "vizhtml.disconnect.reason=client_closed"));
        Assert.Equal(4, metrics.Sum("vizhtml.connections.closed"));
        Assert.Equal(0, metrics.Observe("vizhtml.connections.current"));
        Assert.Equal(0, metrics.Observe("vizhtml.sessions.away"));
        Assert.Equal(0, metrics.Observe("vizhtml.send_queue.messages"));
        Assert.Equal(0, metrics.Observe("vizhtml.send_queue.bytes"));
        // The server's own sum, not the reported one (which never goes down): the ended connections' bytes were kept.
        Assert.True(((VizHtml.Diagnostics.IObservedState)test.Server.Hub).BytesSent >= bytesBefore, "the bytes of the connections that ended were lost");
        Assert.True(metrics.Observe("vizhtml.bytes.sent") >= bytesBefore);
        await TestServer.WaitUntilAsync(() => metrics.Count("vizhtml.handler.duration", "vizhtml.handler.kind=disconnect") == 4);
        Assert.Equal(4, metrics.Count("vizhtml.handler.duration", "vizhtml.handler.kind=connect"));
        Assert.Equal(0, metrics.Sum("vizhtml.events.dropped", "vizhtml.delivery=latest"));
    }

    [Fact]
    public async Task AServerWithoutAMeterFactoryHasAVizHtmlMeterOfItsOwnAndDisposesIt()
    {
        var server = new VizHtmlServer(new VizHtmlOptions { Port = 0, BindAddress = IPAddress.Loopback });
        var meter = server.Metrics.Meter;
        Assert.Equal("VizHtml", meter.Name);
        Assert.Null(meter.Scope);
        using var listener = new MeterListener();
        var enabled = new ConcurrentDictionary<Instrument, bool>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                enabled[instrument] = true;
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.MeasurementsCompleted = (instrument, _) => enabled[instrument] = false;
        listener.Start();
        Assert.Equal(Documented.Length, enabled.Count);

        await server.DisposeAsync();
        Assert.All(enabled.Values, Assert.False);
    }

    /// <summary>What a listener saw of one meter factory's instruments: counter sums, histogram counts, observed values.</summary>
    [Fact]
    public async Task ARequestHandlerRunIsAnEventReceivedAndTimedAsKindRequest()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var metrics = new Recorder(factory);
        await using var test = await TestServer.StartAsync(o => o.MeterFactory = factory);
        test.Server.OnRequest<int, int>("double", (n, e) => n * 2);
        await using var client = new VizHtmlClient(test.HttpBase);
        await client.StartAsync().WaitAsync(TestServer.Timeout);

        Assert.Equal(4, await client.RequestAsync<int>("double", 2).WaitAsync(TestServer.Timeout));

        await TestServer.WaitUntilAsync(() => metrics.Count("vizhtml.handler.duration", "vizhtml.handler.kind=request") == 1);
        Assert.Equal(1, metrics.Sum("vizhtml.events.received"));
        Assert.Equal(0, metrics.Count("vizhtml.handler.duration", "vizhtml.handler.kind=message"));
    }

    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, long> _sums = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, long> _observed = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, bool> _published = new(StringComparer.Ordinal);

        public Recorder(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    _published[instrument.Name] = true;
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var key = Key(instrument.Name, tags);
                if (instrument.IsObservable)
                {
                    _observed[key] = value;
                }
                else
                {
                    _sums.AddOrUpdate(key, value, (_, sum) => sum + value);
                }
            });
            _listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
            {
                Assert.False(instrument.IsObservable);
                _counts.AddOrUpdate(Key(instrument.Name, tags), 1, (_, n) => n + 1);
            });
            _listener.Start();
        }

        public IReadOnlyCollection<string> Published => _published.Keys.ToList();

        /// <summary>A counter's total over the measurements whose tags include <paramref name="tag"/> (<c>name=value</c>), or all.</summary>
        public long Sum(string name, string? tag = null) => Total(_sums, name, tag);

        /// <summary>How many values a histogram has recorded with <paramref name="tag"/>.</summary>
        public long Count(string name, string? tag = null) => Total(_counts, name, tag);

        /// <summary>An observable instrument's value now.</summary>
        public long Observe(string name)
        {
            _observed.Clear();
            _listener.RecordObservableInstruments();
            return Total(_observed, name, null);
        }

        public void Dispose() => _listener.Dispose();

        private static long Total(ConcurrentDictionary<string, long> values, string name, string? tag) =>
            values.Where(kv => kv.Key.StartsWith(name + "|", StringComparison.Ordinal) && (tag is null || kv.Key.Contains("|" + tag + "|", StringComparison.Ordinal)))
                .Sum(kv => kv.Value);

        private static string Key(string name, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = new StringBuilder(name).Append('|');
            foreach (var tag in tags)
            {
                key.Append(tag.Key).Append('=').Append(Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture)).Append('|');
            }

            return key.ToString();
        }
    }

    /// <summary>A protocol version 2 client at the wire, counting the bytes of the messages it sends and receives.</summary>
    private sealed class V2 : IDisposable
    {
        private V2(RawClient raw) => Raw = raw;

        public RawClient Raw { get; }

        public long BytesSent { get; private set; }

        public long BytesReceived { get; private set; }

        /// <summary>The highest sequence number received.</summary>
        public long LastSeq { get; private set; }

        public static async Task<V2> ConnectAsync(TestServer test) => new(await RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2")));

        public async Task<JsonObject> HelloAsync(string? token, long lastSeq = 0)
        {
            await SendAsync(new JsonObject { ["event"] = "$hello", ["data"] = new JsonObject { ["v"] = 2, ["token"] = token, ["lastSeq"] = lastSeq } });
            while (true)
            {
                var envelope = await ReceiveEnvelopeAsync();
                if (envelope["event"]!.GetValue<string>() == "$welcome")
                {
                    return (JsonObject)envelope["data"]!;
                }
            }
        }

        public async Task SendAsync(JsonObject envelope)
        {
            var text = envelope.ToJsonString();
            BytesSent += Encoding.UTF8.GetByteCount(text);
            await Raw.SendTextAsync(text);
        }

        /// <summary>The next application event's name, skipping acks and heartbeats.</summary>
        public async Task<string> ReceiveEventAsync()
        {
            while (true)
            {
                var name = (await ReceiveEnvelopeAsync())["event"]!.GetValue<string>();
                if (!name.StartsWith('$'))
                {
                    return name;
                }
            }
        }

        public async Task CloseAsync()
        {
            using var timeout = new CancellationTokenSource(TestServer.Timeout);
            await Raw.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
        }

        public void Dispose() => Raw.Dispose();

        private async Task<JsonObject> ReceiveEnvelopeAsync()
        {
            var text = await Raw.ReceiveTextAsync() ?? throw new InvalidOperationException("The server closed the connection.");
            BytesReceived += Encoding.UTF8.GetByteCount(text);
            var envelope = JsonNode.Parse(text)!.AsObject();
            LastSeq = Math.Max(LastSeq, envelope["seq"]?.GetValue<long>() ?? 0);
            return envelope;
        }
    }
}
