using System.Diagnostics.Metrics;

namespace VizHtml.Diagnostics;

/// <summary>
/// A server's instruments on the <c>VizHtml</c> meter, named and tagged in the style of ASP.NET Core's and SignalR's
/// built-in metrics (OpenTelemetry semantic conventions): dotted lower-case names, UCUM units, low-cardinality tags only
/// (never a client id, an address or an event name). Each counter is called where the thing is already counted or
/// decided; <c>Counter.Add</c> without a listener is a near no-op, and the broadcast path counts once per broadcast with
/// the number of recipients.
/// </summary>
/// <remarks>
/// One per server: a meter from the app's <see cref="IMeterFactory"/> when there is one (the factory owns it), else a meter
/// of the server's own, disposed with it. Thread-safe.
/// </remarks>
internal sealed class VizHtmlMetrics : IDisposable
{
    public const string MeterName = "VizHtml";

    // Tags allocated once: a tag's value is boxed, and the hot paths must not box per call.
    private static readonly KeyValuePair<string, object?>[] DeliveryTags =
    [
        new("vizhtml.delivery", "reliable"),
        new("vizhtml.delivery", "latest"),
        new("vizhtml.delivery", "volatile"),
    ];

    private static readonly KeyValuePair<string, object?>[] ReasonTags =
    [
        new("vizhtml.disconnect.reason", "client_closed"),
        new("vizhtml.disconnect.reason", "closed_by_server"),
        new("vizhtml.disconnect.reason", "server_stopping"),
        new("vizhtml.disconnect.reason", "connection_lost"),
        new("vizhtml.disconnect.reason", "protocol_violation"),
        new("vizhtml.disconnect.reason", "slow_consumer"),
        new("vizhtml.disconnect.reason", "server_busy"),
    ];

    private static readonly KeyValuePair<string, object?>[] VersionTags =
    [
        new("vizhtml.protocol.version", 1),
        new("vizhtml.protocol.version", 2),
    ];

    private static readonly KeyValuePair<string, object?>[] ResumeTags =
    [
        new("vizhtml.resume.outcome", "recovered"),
        new("vizhtml.resume.outcome", "unrecovered"),
        new("vizhtml.resume.outcome", "unknown_session"),
    ];

    private static readonly KeyValuePair<string, object?>[] HandlerKindTags =
    [
        new("vizhtml.handler.kind", "message"),
        new("vizhtml.handler.kind", "connect"),
        new("vizhtml.handler.kind", "disconnect"),
        new("vizhtml.handler.kind", "form_submit"),
        new("vizhtml.handler.kind", "request"),
    ];

    private static readonly KeyValuePair<string, object?>[] RequestOutcomeTags =
    [
        new("vizhtml.request_handler.outcome", "answered"),
        new("vizhtml.request_handler.outcome", "declined"),
        new("vizhtml.request_handler.outcome", "timeout"),
        new("vizhtml.request_handler.outcome", "error"),
        new("vizhtml.request_handler.outcome", "aborted"),
    ];

    private static readonly KeyValuePair<string, object?>[] RefusalTags =
    [
        new("vizhtml.refusal.rule", "host"),
        new("vizhtml.refusal.rule", "origin"),
        new("vizhtml.refusal.rule", "key"),
        new("vizhtml.refusal.rule", "not_accepting"),
        new("vizhtml.refusal.rule", "max_connections"),
        new("vizhtml.refusal.rule", "max_connections_per_address"),
        new("vizhtml.refusal.rule", "max_form_bytes"),
        new("vizhtml.refusal.rule", "form_budget"),
        new("vizhtml.refusal.rule", "form_rejected"),
        new("vizhtml.refusal.rule", "form_upload_timeout"),
    ];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _connectionsOpened;
    private readonly Counter<long> _connectionsClosed;
    private readonly Counter<long> _resumes;
    private readonly Counter<long> _eventsReceived;
    private readonly Counter<long> _eventsSent;
    private readonly Counter<long> _eventsDropped;
    private readonly Counter<long> _eventsCoalesced;
    private readonly Counter<long> _bytesReceived;
    private readonly Lock _bytesSentGate = new();
    private long _bytesSentReported;
    private readonly Histogram<double> _handlerDuration;
    private readonly Histogram<double> _requestHandlerDuration;
    private readonly Counter<long> _refusals;
    private IObservedState? _state;

    /// <param name="factory">The app's meter factory (it owns the meter), or <see langword="null"/> for a meter of this object's own.</param>
    public VizHtmlMetrics(IMeterFactory? factory)
    {
        var version = typeof(VizHtmlMetrics).Assembly.GetName().Version?.ToString();
        _ownsMeter = factory is null;
        _meter = factory is null ? new Meter(MeterName, version) : factory.Create(new MeterOptions(MeterName) { Version = version });

        _meter.CreateObservableUpDownCounter("vizhtml.connections.current", () => (long)(_state?.ConnectedClients ?? 0), "{connection}", "Clients connected now.");
        _meter.CreateObservableUpDownCounter("vizhtml.sessions.away", () => (long)(_state?.AwaySessions ?? 0), "{session}", "Sessions whose client is away and may still resume.");
        _meter.CreateObservableUpDownCounter("vizhtml.send_queue.messages", () => _state?.QueuedMessages ?? 0, "{message}", "Messages queued for connected clients and not yet handed to their sockets, all clients together.");
        _meter.CreateObservableUpDownCounter("vizhtml.send_queue.bytes", () => _state?.QueuedBytes ?? 0, "By", "Bytes queued for connected clients and not yet handed to their sockets, all clients together.");
        _connectionsOpened = _meter.CreateCounter<long>("vizhtml.connections.opened", "{connection}", "Clients that connected: new sessions and resumed ones, by protocol version.");
        _connectionsClosed = _meter.CreateCounter<long>("vizhtml.connections.closed", "{connection}", "Clients that disconnected, by reason.");
        _resumes = _meter.CreateCounter<long>("vizhtml.sessions.resumes", "{session}", "Resume attempts: recovered (nothing missed was lost), unrecovered (the page resyncs) or unknown_session (forgotten: a new session).");
        _eventsReceived = _meter.CreateCounter<long>("vizhtml.events.received", "{event}", "Events received from clients and handed to the handlers.");
        _eventsSent = _meter.CreateCounter<long>("vizhtml.events.sent", "{event}", "Events queued for a client (a broadcast counts once per recipient), by delivery class.");
        _eventsDropped = _meter.CreateCounter<long>("vizhtml.events.dropped", "{event}", "Events not queued because a client's send queue was full: volatile ones are dropped, a reliable one disconnects its client as slow.");
        _eventsCoalesced = _meter.CreateCounter<long>("vizhtml.events.coalesced", "{event}", "Latest-class events that replaced an older value still waiting in a client's queue.");
        _bytesReceived = _meter.CreateCounter<long>("vizhtml.bytes.received", "By", "Bytes of complete messages received from clients.");
        _meter.CreateObservableCounter("vizhtml.bytes.sent", ObserveBytesSent, "By", "Bytes of WebSocket messages written to clients.");
        _handlerDuration = _meter.CreateHistogram<double>("vizhtml.handler.duration", "s", "How long the handlers of one event ran (all handlers of a message, connect, disconnect or form submit), by kind.");
        _requestHandlerDuration = _meter.CreateHistogram<double>("vizhtml.request_handler.duration", "s", "How long a page's request handler took to answer, from its form being read to its answer, by outcome.");
        _refusals = _meter.CreateCounter<long>("vizhtml.requests.refused", "{request}", "Requests and sockets refused, by the rule that refused them.");
    }

    /// <summary>The meter the instruments are on.</summary>
    public Meter Meter => _meter;

    /// <summary>Whether anyone listens to the handler duration (the only instrument whose measurement costs a clock read).</summary>
    public bool HandlerDurationEnabled => _handlerDuration.Enabled;

    /// <summary>Whether anyone listens to the request handler duration.</summary>
    public bool RequestHandlerDurationEnabled => _requestHandlerDuration.Enabled;

    /// <summary>Where the observable instruments read the server's state; set once the state exists.</summary>
    public void Observe(IObservedState state) => _state = state;

    public void ConnectionOpened(int protocolVersion) => _connectionsOpened.Add(1, VersionTags[protocolVersion == 1 ? 0 : 1]);

    public void ConnectionClosed(VizDisconnectReason reason) => _connectionsClosed.Add(1, ReasonTags[(int)reason]);

    public void Resumed(ResumeOutcome outcome) => _resumes.Add(1, ResumeTags[(int)outcome]);

    public void EventReceived() => _eventsReceived.Add(1);

    public void BytesReceived(int bytes) => _bytesReceived.Add(bytes);

    /// <summary>Events queued for <paramref name="recipients"/> clients: one call per broadcast.</summary>
    public void EventsSent(int recipients, VizDelivery delivery)
    {
        if (recipients > 0)
        {
            _eventsSent.Add(recipients, DeliveryTags[(int)delivery]);
        }
    }

    public void EventDropped(VizDelivery delivery) => _eventsDropped.Add(1, DeliveryTags[(int)delivery]);

    public void EventCoalesced() => _eventsCoalesced.Add(1);

    /// <summary>
    /// <c>vizhtml.bytes.sent</c>, collected, not counted per write: each connection adds what it writes to a field of its own
    /// (the write path calls no listener), the server sums them when a listener collects. A total can dip for a moment while
    /// a connection moves from the registry to the retired sum; what is reported never goes down.
    /// </summary>
    private long ObserveBytesSent()
    {
        var total = _state?.BytesSent ?? 0;
        lock (_bytesSentGate)
        {
            if (total < _bytesSentReported)
            {
                return _bytesSentReported;
            }

            _bytesSentReported = total;
            return total;
        }
    }

    public void HandlerRan(HandlerKind kind, TimeSpan elapsed) => _handlerDuration.Record(elapsed.TotalSeconds, HandlerKindTags[(int)kind]);

    public void RequestHandled(RequestOutcome outcome, TimeSpan elapsed) => _requestHandlerDuration.Record(elapsed.TotalSeconds, RequestOutcomeTags[(int)outcome]);

    public void Refused(RefusalRule rule) => _refusals.Add(1, RefusalTags[(int)rule]);

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}

/// <summary>What the observable instruments read, on each collection (a few times a minute at most, when someone listens).</summary>
internal interface IObservedState
{
    int ConnectedClients { get; }

    int AwaySessions { get; }

    long QueuedMessages { get; }

    long QueuedBytes { get; }

    /// <summary>Bytes of messages written to clients so far, those of connections that ended included.</summary>
    long BytesSent { get; }
}

/// <summary>How a resume attempt ended (the <c>vizhtml.resume.outcome</c> tag).</summary>
internal enum ResumeOutcome
{
    Recovered,
    Unrecovered,
    UnknownSession,
}

/// <summary>Which handlers ran (the <c>vizhtml.handler.kind</c> tag).</summary>
internal enum HandlerKind
{
    Message,
    Connect,
    Disconnect,
    FormSubmit,
    Request,
}

/// <summary>How a request handler ended (the <c>vizhtml.request_handler.outcome</c> tag).</summary>
internal enum RequestOutcome
{
    /// <summary>It returned a response.</summary>
    Answered,

    /// <summary>It returned none: the page is served as usual.</summary>
    Declined,

    /// <summary>It did not answer within the request handler timeout (503).</summary>
    Timeout,

    /// <summary>It threw (500).</summary>
    Error,

    /// <summary>The browser went away first.</summary>
    Aborted,
}

/// <summary>The rule that refused a request or socket (the <c>vizhtml.refusal.rule</c> tag).</summary>
internal enum RefusalRule
{
    Host,
    Origin,
    Key,
    NotAccepting,
    MaxConnections,
    MaxConnectionsPerAddress,
    MaxFormBytes,
    FormBudget,
    FormRejected,
    FormUploadTimeout,
}
