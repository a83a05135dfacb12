using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using VizHtml.Diagnostics;
using VizHtml.Http;
using VizHtml.Sessions;

namespace VizHtml.Status;

/// <summary>
/// The live status page at <c>&lt;mount&gt;/_status</c>: a <c>vizhtml.js</c> page (protocol version 1 on a socket of its
/// own, <c>&lt;mount&gt;/_status/socket</c>, so it is never a client of the hub: not in <see cref="VizHtmlServer.ClientCount"/>,
/// no connect event, no metrics) that gets one <c>status</c> event a second. The sampling runs only while at least one
/// status page is connected; otherwise all it costs is each client's two event counters and the two rings of <see cref="StatusLog"/>.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The sampling loop owns its token source and disposes it when it ends.")]
internal sealed class StatusMonitor : IStatusRoute
{
    /// <summary>Status pages open at once; more get 503 (the page is for a person or two, not a crowd).</summary>
    public const int MaxWatchers = 8;

    /// <summary>Seconds of event rates kept for the chart.</summary>
    public const int HistorySeconds = 300;

    /// <summary>Clients listed in one snapshot; the count is always the full one.</summary>
    public const int MaxListedClients = 200;

    private static readonly byte[] AskForKeyHtml = Encoding.UTF8.GetBytes(StatusPageHtml.AskForKey);

    private readonly SessionHub _hub;
    private readonly VizHtmlOptions _options;
    private readonly Func<int> _port;
    private readonly string _hostKind;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<Watcher> _watchers = [];
    private readonly Lock _sampleGate = new();
    private readonly (long AtMs, double In, double Out, int Clients)[] _history = new (long, double, double, int)[HistorySeconds];
    private Dictionary<Session, Counts> _previous = [];
    private long _previousTimestamp;
    private int _historyNext;
    private int _historyCount;
    private CancellationTokenSource? _samplingStop;

    public StatusMonitor(SessionHub hub, VizHtmlOptions options, Func<int> port, string hostKind)
    {
        _hub = hub;
        _options = options;
        _port = port;
        _hostKind = hostKind;
        _time = options.TimeProvider;
        Log = new StatusLog(options.TimeProvider);
    }

    public StatusLog Log { get; }

    /// <summary>Status pages connected now (for tests).</summary>
    public int WatcherCount
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    /// <summary>Whether the once-a-second sampling runs (only while a status page is connected).</summary>
    public bool Sampling
    {
        get
        {
            lock (_gate)
            {
                return _samplingStop is not null;
            }
        }
    }

    public bool Admits(HttpExchange exchange)
    {
        if (_options.StatusPage == VizStatusPageAccess.Everywhere)
        {
            return true;
        }

        // Loopback: the peer is this machine, and no proxy on this machine forwarded the request for someone else.
        var remote = exchange.RemoteAddress;
        var local = _options.StatusPage == VizStatusPageAccess.Loopback
            && remote is not null
            && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote)
            && exchange.Header("Forwarded") is null
            && exchange.Header("X-Forwarded-For") is null;
        if (!local)
        {
            Log.Refused("status_page_not_local", HttpEndpoint.FormatAddress(remote));
        }

        return local;
    }

    public Task AskForKeyAsync(HttpExchange exchange)
    {
        exchange.SetHeader("Cache-Control", "no-store");
        return exchange.RespondAsync(401, "text/html; charset=utf-8", AskForKeyHtml);
    }

    public void Refused(RefusalRule rule, string address) => Log.Refused(rule, address);

    public async Task HandleAsync(HttpExchange exchange, string rest, string mount)
    {
        if (rest == "/socket")
        {
            await WatchAsync(exchange).ConfigureAwait(false);
            return;
        }

        if (rest is not ("" or "/"))
        {
            await exchange.RespondAsync(404, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes("Not found.")).ConfigureAwait(false);
            return;
        }

        if (!exchange.IsGetOrHead)
        {
            exchange.SetHeader("Allow", "GET, HEAD");
            await exchange.RespondAsync(405, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes("Method not allowed.")).ConfigureAwait(false);
            return;
        }

        exchange.SetHeader("Cache-Control", "no-store");
        exchange.SetHeader("X-Frame-Options", "DENY");
        await exchange.RespondAsync(200, "text/html; charset=utf-8", Encoding.UTF8.GetBytes(StatusPageHtml.Render(mount))).ConfigureAwait(false);
    }

    /// <summary>Stops sampling and closes every status page's socket (the server stops).</summary>
    public void CloseAll()
    {
        Watcher[] watchers;
        lock (_gate)
        {
            watchers = [.. _watchers];
        }

        foreach (var watcher in watchers)
        {
            watcher.Abort();
        }
    }

    private async Task WatchAsync(HttpExchange exchange)
    {
        if (!exchange.IsWebSocketRequest)
        {
            await exchange.RespondAsync(400, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes("This is the status page's WebSocket endpoint.")).ConfigureAwait(false);
            return;
        }

        if (WatcherCount >= MaxWatchers)
        {
            await exchange.RespondAsync(503, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"At most {MaxWatchers} status pages may be open at once.")).ConfigureAwait(false);
            return;
        }

        var socket = await exchange.AcceptWebSocketAsync(0).ConfigureAwait(false);
        using var watcher = new Watcher(socket, _options.SendTimeout, _time, exchange.Aborted);
        Join(watcher);
        try
        {
            watcher.TrySend(Snapshot(advance: false));
            await watcher.ReceiveUntilClosedAsync().ConfigureAwait(false);
        }
        finally
        {
            Leave(watcher);
        }
    }

    private void Join(Watcher watcher)
    {
        CancellationTokenSource? start = null;
        lock (_gate)
        {
            _watchers.Add(watcher);
            if (_samplingStop is null)
            {
                start = _samplingStop = new CancellationTokenSource();
            }
        }

        if (start is not null)
        {
            Prime();
            _ = SampleWhileWatchedAsync(start);
        }
    }

    private void Leave(Watcher watcher)
    {
        CancellationTokenSource? stop = null;
        lock (_gate)
        {
            _watchers.Remove(watcher);
            if (_watchers.Count == 0)
            {
                stop = _samplingStop;
                _samplingStop = null;
            }
        }

        stop?.Cancel();
    }

    private async Task SampleWhileWatchedAsync(CancellationTokenSource stop)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _time);
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                var snapshot = Snapshot(advance: true);
                Watcher[] watchers;
                lock (_gate)
                {
                    watchers = [.. _watchers];
                }

                foreach (var watcher in watchers)
                {
                    watcher.TrySend(snapshot);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            stop.Dispose();
        }
    }

    /// <summary>Takes every client's counters as the starting point, so a page opened late shows no spike of everything counted before.</summary>
    private void Prime()
    {
        lock (_sampleGate)
        {
            var counts = new Dictionary<Session, Counts>();
            foreach (var client in _hub.Connected.Current)
            {
                var session = client.Session;
                counts[session] = new Counts(session.EventsReceived, session.EventsSent, 0, 0);
            }

            _previous = counts;
            _previousTimestamp = _time.GetTimestamp();
        }
    }

    /// <summary>
    /// The <c>status</c> event, serialized once for every status page. With <paramref name="advance"/>, a new second of
    /// rates is taken (each client's counters against the last sample's) and added to the chart's history.
    /// </summary>
    internal byte[] Snapshot(bool advance)
    {
        lock (_sampleGate)
        {
            var now = _time.GetTimestamp();
            var seconds = _time.GetElapsedTime(_previousTimestamp, now).TotalSeconds;

            // A tick that comes right after a late one would divide a few events by a sliver of a second: a false spike.
            advance &= seconds >= 0.5;
            var utcNow = _time.GetUtcNow();
            var clients = _hub.Connected.Current;
            var counts = advance ? new Dictionary<Session, Counts>(_previous.Count) : _previous;
            double totalIn = 0, totalOut = 0;

            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteString("event", "status");
                json.WriteStartObject("data");
                json.WriteString("now", utcNow);
                WriteServer(json);
                json.WriteNumber("clientCount", clients.Live);
                json.WriteNumber("away", _hub.AwayCount);
                json.WriteStartArray("clients");
                var listed = 0;
                foreach (var client in clients)
                {
                    var session = client.Session;
                    var connection = session.Connection;
                    var received = session.EventsReceived;
                    var sent = session.EventsSent;
                    Counts current;
                    if (advance)
                    {
                        // A client the last sample did not see connected after it: everything it counted is new.
                        var before = _previous.TryGetValue(session, out var b) ? b : default;
                        current = seconds > 0
                            ? new Counts(received, sent, (received - before.In) / seconds, (sent - before.Out) / seconds)
                            : new Counts(received, sent, before.InPerSecond, before.OutPerSecond);
                        counts[session] = current;
                        totalIn += current.InPerSecond;
                        totalOut += current.OutPerSecond;
                    }
                    else
                    {
                        current = _previous.TryGetValue(session, out var known) ? known with { In = received, Out = sent } : new Counts(received, sent, 0, 0);
                    }

                    if (listed++ >= MaxListedClients)
                    {
                        continue;
                    }

                    json.WriteStartObject();
                    json.WriteString("id", client.Id);
                    json.WriteString("address", client.Address);
                    json.WriteString("userAgent", client.UserAgent);
                    json.WriteNumber("protocol", client.Session.Resumable ? 2 : 1);
                    json.WriteString("connectedAt", client.ConnectedAt);
                    json.WriteNumber("queued", connection.QueuedMessages);
                    json.WriteNumber("queuedBytes", connection.QueuedBytes);
                    json.WriteNumber("eventsIn", received);
                    json.WriteNumber("eventsOut", sent);
                    json.WriteNumber("inPerSecond", Math.Round(current.InPerSecond, 1));
                    json.WriteNumber("outPerSecond", Math.Round(current.OutPerSecond, 1));
                    json.WriteEndObject();
                }

                json.WriteEndArray();

                if (advance)
                {
                    _previous = counts;
                    _previousTimestamp = now;
                    _history[_historyNext] = (utcNow.ToUnixTimeMilliseconds(), Math.Round(totalIn, 1), Math.Round(totalOut, 1), clients.Live);
                    _historyNext = (_historyNext + 1) % _history.Length;
                    _historyCount = Math.Min(_historyCount + 1, _history.Length);
                }

                // Oldest first, as [time in ms, events/s in, events/s out, clients].
                json.WriteStartArray("rates");
                for (var i = _historyCount; i > 0; i--)
                {
                    var (atMs, rateIn, rateOut, live) = _history[(_historyNext - i + _history.Length) % _history.Length];
                    json.WriteStartArray();
                    json.WriteNumberValue(atMs);
                    json.WriteNumberValue(rateIn);
                    json.WriteNumberValue(rateOut);
                    json.WriteNumberValue(live);
                    json.WriteEndArray();
                }

                json.WriteEndArray();

                json.WriteStartArray("refusals");
                foreach (var refusal in Log.Refusals)
                {
                    json.WriteStartObject();
                    json.WriteString("rule", refusal.Rule);
                    json.WriteString("address", refusal.Address);
                    json.WriteString("at", refusal.At);
                    json.WriteEndObject();
                }

                json.WriteEndArray();

                json.WriteStartArray("disconnects");
                foreach (var departure in Log.Departures)
                {
                    json.WriteStartObject();
                    json.WriteString("client", departure.ClientId);
                    json.WriteString("address", departure.Address);
                    json.WriteString("reason", ReasonName(departure.Reason));
                    if (departure.CloseStatus is { } status)
                    {
                        json.WriteNumber("code", status);
                    }

                    json.WriteString("description", departure.CloseDescription);
                    json.WriteBoolean("canResume", departure.CanResume);
                    json.WriteString("at", departure.At);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndObject();
            }

            return stream.ToArray();
        }
    }

    /// <summary>The options that say what the server admits and how much it holds; whether a key is set, never the key.</summary>
    private void WriteServer(Utf8JsonWriter json)
    {
        var o = _options;
        json.WriteStartObject("server");
        json.WriteString("host", _hostKind);
        json.WriteNumber("port", _port());
        json.WriteString("bindAddress", o.BindAddress?.ToString() ?? "any");
        json.WriteBoolean("tls", o.Certificate is not null || o.CertificatePath is not null);
        json.WriteBoolean("accessKey", o.AccessKey is not null);
        json.WriteString("allowedOrigins", o.AllowedOrigins.Count == 0 ? "same origin only" : string.Join(", ", o.AllowedOrigins));
        json.WriteString("allowedHosts", o.AllowedHosts.Count == 0 ? "IP addresses and this machine's names" : string.Join(", ", o.AllowedHosts));
        json.WriteString("statusPage", o.StatusPage.ToString());
        json.WriteNumber("maxConnections", o.MaxConnections);
        json.WriteNumber("maxConnectionsPerAddress", o.MaxConnectionsPerAddress);
        json.WriteNumber("maxMessagesPerSecond", o.MaxMessagesPerSecond);
        json.WriteNumber("maxMessageBytes", o.MaxMessageBytes);
        json.WriteNumber("maxQueuedMessages", o.MaxQueuedMessages);
        json.WriteNumber("maxQueuedBytes", o.MaxQueuedBytes);
        json.WriteNumber("maxAwaySessions", o.MaxAwaySessions);
        json.WriteString("resumeTimeout", o.ResumeTimeout.ToString("c", CultureInfo.InvariantCulture));
        json.WriteString("sendTimeout", o.SendTimeout.ToString("c", CultureInfo.InvariantCulture));
        json.WriteString("dispatch", o.Dispatch.ToString());
        json.WriteEndObject();
    }

    private static string ReasonName(VizDisconnectReason reason) => reason switch
    {
        VizDisconnectReason.ClientClosed => "client_closed",
        VizDisconnectReason.ClosedByServer => "closed_by_server",
        VizDisconnectReason.ServerStopping => "server_stopping",
        VizDisconnectReason.ConnectionLost => "connection_lost",
        VizDisconnectReason.ProtocolViolation => "protocol_violation",
        VizDisconnectReason.SlowConsumer => "slow_consumer",
        VizDisconnectReason.ServerBusy => "server_busy",
        _ => reason.ToString(),
    };

    /// <summary>A client's counters at a sample, and its rates over the second before it.</summary>
    private readonly record struct Counts(long In, long Out, double InPerSecond, double OutPerSecond);

    /// <summary>One open status page: its socket, written by the sampler one snapshot at a time (a slow page skips seconds).</summary>
    private sealed class Watcher(WebSocket socket, TimeSpan sendTimeout, TimeProvider time, CancellationToken aborted) : IDisposable
    {
        private readonly CancellationTokenSource _abort = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        private int _sending;

        public void TrySend(byte[] snapshot)
        {
            if (Interlocked.CompareExchange(ref _sending, 1, 0) != 0)
            {
                return;
            }

            _ = SendAsync(snapshot);
        }

        private async Task SendAsync(byte[] snapshot)
        {
            try
            {
                using var timeout = time.CreateCancellationTokenSource(sendTimeout);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _abort.Token);
                await socket.SendAsync(snapshot.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, linked.Token).ConfigureAwait(false);
                Volatile.Write(ref _sending, 0);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
            {
                // A page that cannot take one snapshot in SendTimeout is cut off; it reconnects by itself.
                Abort();
            }
        }

        public async Task ReceiveUntilClosedAsync()
        {
            var buffer = new byte[1024];
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer.AsMemory(), _abort.Token).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        using var timeout = time.CreateCancellationTokenSource(sendTimeout);
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
            {
            }
        }

        public void Abort()
        {
            try
            {
                _abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }

            socket.Abort();
        }

        public void Dispose()
        {
            _abort.Dispose();
            socket.Dispose();
        }
    }
}
