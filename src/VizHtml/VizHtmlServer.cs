using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VizHtml.Events;
using VizHtml.Hosting;
#if NET
using VizHtml.Hosting.Kestrel;
#endif
using VizHtml.Hosting.Standalone;
using VizHtml.Http;
using VizHtml.Protocol;
using VizHtml.Sessions;

namespace VizHtml;

/// <summary>
/// An HTTP and WebSocket server that serves the program's pages and exchanges named events with every connected
/// browser: the counterpart of the original <c>vizhtml</c> module. All members are thread-safe.
/// </summary>
/// <remarks>
/// Handlers and pages registered before <see cref="StartAsync"/> are kept across stop and start. Sending never
/// blocks: <see cref="SendAll(string, object?)"/> serializes once and queues the same bytes for every client.
/// </remarks>
public sealed partial class VizHtmlServer : IAsyncDisposable
{
    private static readonly Lock DefaultGate = new();
    private static VizHtmlOptions? s_defaultOptions;
    private static VizHtmlServer? s_default;

    private readonly VizHtmlOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILoggerFactory? _ownedLoggerFactory;
    private readonly ILogger _logger;
    private readonly Diagnostics.VizHtmlMetrics _metrics;
    private readonly EventRouter _router;
    private readonly Dispatcher _dispatcher;
    private readonly SessionHub _hub;
    private readonly PageRegistry _pages = new();
    private readonly AccessPolicy _policy;
    private readonly ConnectionLimits _connectionLimits;
    private readonly FormBudget _formBudget;
    private readonly FormSpoolFolder _formSpool = new();

    // Null when VizHtmlOptions.StatusPage is Off: nothing is recorded and its path is an unknown page.
    private readonly Status.StatusMonitor? _status;
    private readonly JsonSerializerOptions _jsonOptions;
    private readonly BinaryJson _binaryJson;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);

    // False when an ASP.NET Core app hosts VizHtml (MapVizHtml): the app's own Kestrel serves it.
    private readonly bool _embedded;
    private IServerHost? _host;
    private Func<(string Scheme, int Port)>? _appAddress;
    private string _mount = Prefix;
    private CancellationTokenSource? _maintenanceStop;
    private Task? _maintenance;
    private int _port;
    private bool _disposed;

#if NET
    /// <summary>The server's instruments, for tests.</summary>
    internal Diagnostics.VizHtmlMetrics Metrics => _metrics;

    /// <summary>The running Kestrel host, for tests.</summary>
    internal EmbeddedHost? Host => _host as EmbeddedHost;
#endif

    /// <summary>Creates a server; it listens once <see cref="StartAsync"/> is called.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults. Copied: later changes have no effect.</param>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public VizHtmlServer(VizHtmlOptions? options = null)
        : this(options, embedded: true)
    {
    }

    /// <summary>A server for a host: embedded (its own Kestrel, started by <see cref="StartAsync"/>) or mapped into an app.</summary>
    internal VizHtmlServer(VizHtmlOptions? options, bool embedded)
    {
        _embedded = embedded;
        _options = options?.Clone() ?? new VizHtmlOptions();
        _options.Validate();
        _ownedLoggerFactory = _options.LoggerFactory is null ? LoggerFactory.Create(b => b.AddSimpleConsole(c => c.SingleLine = true).SetMinimumLevel(LogLevel.Warning)) : null;
        var loggerFactory = _options.LoggerFactory ?? _ownedLoggerFactory!;
        _loggerFactory = Security.RedactingLoggerFactory.For(loggerFactory, _options.AccessKey);
        _logger = _loggerFactory.CreateLogger("VizHtml");
        var eventsLogger = _loggerFactory.CreateLogger("VizHtml.Events");
        _metrics = new Diagnostics.VizHtmlMetrics(_options.MeterFactory);
        _dispatcher = Dispatcher.Create(_options.Dispatch, _options.SynchronizationContext, eventsLogger);
        _jsonOptions = _options.JsonSerializerOptions ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var requests = new RequestHandlers(eventsLogger, _metrics, _options.TimeProvider) { DetailedErrors = _options.DetailedErrors, JsonOptions = _jsonOptions };
        _router = new EventRouter(eventsLogger, _metrics, _options.TimeProvider, requests);
        _binaryJson = new BinaryJson(_jsonOptions);
        _hub = new SessionHub(_options, new EnvelopeSerializer(_jsonOptions, _binaryJson), _dispatcher, _router, new InMemorySessionStore(_options.MaxAwaySessions, _options.MaxConnectionsPerAddress), _logger, _metrics);
        _metrics.Observe(_hub);
        _policy = new AccessPolicy(_options);
        _connectionLimits = new ConnectionLimits(_options.MaxConnections, _options.MaxConnectionsPerAddress);
        _formBudget = new FormBudget(_options.MaxFormBytesInFlight, _options.MaxFormBytesInFlightPerAddress);
        _port = _options.Port;
        if (_options.StatusPage != VizStatusPageAccess.Off)
        {
            _status = new Status.StatusMonitor(_hub, _options, () => Port, !embedded ? "ASP.NET Core app (MapVizHtml)" : _options.Host == VizHtmlHost.Standalone || !IsKestrelBuild ? "standalone" : "Kestrel (embedded)");
            _hub.Departed = _status.Log.Departed;
        }
    }

#if NET
    private const bool IsKestrelBuild = true;
#else
    private const bool IsKestrelBuild = false;
#endif

    /// <summary>The live status page; <see langword="null"/> when it is off (for tests).</summary>
    internal Status.StatusMonitor? StatusPage => _status;

    /// <summary>
    /// The process-wide server that starts by itself on first use, as the original module does. Its port is
    /// <see cref="ConfigureDefault"/>'s, else the <c>VIZHTML_PORT</c> environment variable, else 8080.
    /// </summary>
    /// <exception cref="VizHtmlPortInUseException">The port is in use (the message names it and how to choose another).</exception>
    public static VizHtmlServer Default
    {
        get
        {
            lock (DefaultGate)
            {
                if (s_default is null)
                {
                    var options = s_defaultOptions ?? DefaultOptionsFromEnvironment();
                    var server = new VizHtmlServer(options);
                    server.StartAsync().GetAwaiter().GetResult();
                    s_default = server;
                }

                return s_default;
            }
        }
    }

    /// <summary>Sets the options of <see cref="Default"/>; call it before the first use of <see cref="Default"/>.</summary>
    /// <exception cref="InvalidOperationException">The default server already exists.</exception>
    public static void ConfigureDefault(Action<VizHtmlOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        lock (DefaultGate)
        {
            if (s_default is not null)
            {
                throw new InvalidOperationException("VizHtmlServer.Default has already started; call ConfigureDefault before its first use.");
            }

            var options = s_defaultOptions ?? DefaultOptionsFromEnvironment();
            configure(options);
            options.Validate();
            s_defaultOptions = options;
        }
    }

    /// <summary>Whether the server is running: listening (embedded) or taking requests through the app that maps it.</summary>
    public bool IsRunning => _hub.Accepting;

    /// <summary>The sessions and connections (bench/VizHtml.Micro hands it sockets of its own; tests look inside).</summary>
    internal SessionHub Hub => _hub;

    /// <summary>
    /// The port the server listens on: the one chosen by the system when <see cref="VizHtmlOptions.Port"/> is 0.
    /// A stopped server keeps it and listens on it again when restarted. Mapped into an ASP.NET Core app, the app's port.
    /// </summary>
    public int Port => _appAddress?.Invoke().Port ?? _port;

    /// <summary>The connected clients: a snapshot that does not change as clients come and go.</summary>
    public IReadOnlyList<VizClient> Clients => _hub.Connected.Snapshot;

    /// <summary>How many clients are connected.</summary>
    public int ClientCount => _hub.Connected.Count;

    /// <summary>
    /// How many clients are away: their connection was lost, and they may still come back and resume (same
    /// <see cref="VizClient"/>, missed events replayed) within <see cref="VizHtmlOptions.ResumeTimeout"/>. Not counted in
    /// <see cref="ClientCount"/>; held to <see cref="VizHtmlOptions.MaxAwaySessions"/>.
    /// </summary>
    public int AwayCount => _hub.AwayCount;

    internal VizHtmlOptions Options => _options;

    /// <summary>The form bytes held now (for tests).</summary>
    internal FormBudget FormBudget => _formBudget;

    /// <summary>Where uploaded files too large for memory are kept (for tests).</summary>
    internal FormSpoolFolder FormSpool => _formSpool;

    /// <summary>
    /// Starts the server: the embedded one listens; one mapped into an ASP.NET Core app (<c>MapVizHtml</c>) starts taking
    /// sockets (the app's hosted service calls this). Does nothing if already started.
    /// </summary>
    /// <exception cref="VizHtmlPortInUseException">The port is in use (the message names it and how to choose another).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_hub.Accepting)
            {
                return;
            }

            if (_embedded)
            {
                _host = await StartHostAsync(CreateEndpoint(Prefix, (_, page) => GetServerUrl(page)), cancellationToken).ConfigureAwait(false);

                // A restart keeps the port the system chose, so open pages find the server again.
                _port = _host.Port;
            }

            // A restart is a new run: clients drop what they queued for the last one (unless told to keep it).
            _hub.StartNewEpoch();
            _hub.Accepting = true;
            _maintenanceStop = new CancellationTokenSource();
            _maintenance = _hub.RunMaintenanceAsync(_maintenanceStop.Token);
            if (_embedded)
            {
                _logger.LogInformation("VizHtml listening on port {Port}: {Url}", _port, BuildUrl(PublicHost(), page: null, includeKey: false));
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>The web server <see cref="VizHtmlOptions.Host"/> names: Kestrel where this build has it, else the standalone one.</summary>
    private async Task<IServerHost> StartHostAsync(HttpEndpoint endpoint, CancellationToken cancellationToken)
    {
#if NET
        if (_options.Host != VizHtmlHost.Standalone)
        {
            return await EmbeddedHost.StartAsync(_options, _port, _loggerFactory, endpoint, _connectionLimits, cancellationToken).ConfigureAwait(false);
        }
#else
        if (_options.Host == VizHtmlHost.Kestrel)
        {
            throw new PlatformNotSupportedException("VizHtmlOptions.Host is Kestrel, but this build of VizHtml (.NET Standard) has no Kestrel: use VizHtmlHost.Automatic or Standalone, or the .NET 10 build.");
        }
#endif
        return await StandaloneHost.StartAsync(_options, _port, _loggerFactory, endpoint, _connectionLimits, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops the server: queued events are flushed, every client is closed with 1001 (going away) and its disconnect
    /// event raised, then the listener stops. Clients still open after <see cref="VizHtmlOptions.ShutdownTimeout"/> are cut off.
    /// Pages and handlers stay registered for a later <see cref="StartAsync"/>.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_hub.Accepting)
            {
                return;
            }

            // No new socket from here on; the ones open are closed below.
            _hub.Accepting = false;
            if (_maintenanceStop is not null)
            {
                await _maintenanceStop.CancelAsync().ConfigureAwait(false);
                await _maintenance!.ConfigureAwait(false);
                _maintenanceStop.Dispose();
                _maintenanceStop = null;
            }

            // A stop ends every session: after a restart nothing can be resumed (the page is told recovered: false).
            _hub.CloseAll();
            _status?.CloseAll();
            using var grace = _options.TimeProvider.CreateCancellationTokenSource(_options.ShutdownTimeout);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(grace.Token, cancellationToken);
            if (_host is { } host)
            {
                await host.StopAsync(linked.Token).ConfigureAwait(false);
                await host.DisposeAsync().ConfigureAwait(false);
                _host = null;
            }
            else
            {
                // The app's Kestrel keeps running: wait for the clients to go, within the grace period.
                try
                {
                    await _hub.WaitUntilNoneConnectedAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _logger.LogWarning("{Count} clients were still connected when the shutdown grace period ended", _hub.Connected.Count);
                }
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Stops the server and releases it; pending handler work gets <see cref="VizHtmlOptions.ShutdownTimeout"/> to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        _disposed = true;
        await _dispatcher.DrainAsync(_options.ShutdownTimeout).ConfigureAwait(false);

        // Forms whose handlers never ran (or are still running past the drain) leave no file behind.
        _formSpool.DeleteAll();
        lock (DefaultGate)
        {
            if (ReferenceEquals(s_default, this))
            {
                s_default = null;
            }
        }

        _ownedLoggerFactory?.Dispose();
        _metrics.Dispose();

        _lifecycle.Dispose();
    }

    /// <summary>The path VizHtml serves under on the embedded server: pages at <c>/vizhtml/&lt;name&gt;/</c>, the socket at <c>/vizhtml/socket</c>.</summary>
    internal const string Prefix = "/vizhtml";

    /// <summary>The HTTP side for a host: everything under <paramref name="mount"/>, the socket handed to the sessions.</summary>
    /// <param name="mount">Where VizHtml is mounted (below the app's path base), e.g. <c>/vizhtml</c>.</param>
    /// <param name="pageUrl">The URL the index shows (and encodes as a QR code) for a page, given the request.</param>
    internal HttpEndpoint CreateEndpoint(string mount, Func<HttpExchange, string, Uri> pageUrl)
    {
        // The URLs this server hands out (GetServerUrl, GetLocalUrl) lead to where it is mounted; the first mount wins.
        if (!_embedded && _mount == Prefix)
        {
            _mount = mount;
        }

        return new HttpEndpoint(
            _pages,
            _policy,
            _connectionLimits,
            _formBudget,
            _formSpool,
            _dispatcher,
            _router,
            new HttpSettings(mount, _options.MaxFormBytes, _options.FormUploadTimeout, _options.FormSubmittedHtml, _options.RequestHandlerTimeout, _options.TimeProvider, pageUrl, _options.SocketSendBufferBytes, _options.ServeJQuery),
            (socket, address, v2, user, aborted, userAgent) => _hub.RunSocketAsync(socket, new SocketPeer(address, v2, user, userAgent), aborted),
            () => _hub.Accepting,
            _logger,
            _metrics)
        {
            Status = _status,
            Contract = () => _contractDeclarations,
        };
    }

    /// <summary>Tells a mapped server where the app listens (its first address), for <see cref="Port"/> and the URLs it builds.</summary>
    internal void UseAppAddress(Func<(string Scheme, int Port)> address) => _appAddress = address;

    /// <summary>
    /// The base URL other devices use to reach this server, e.g. <c>http://192.168.1.20:8080/vizhtml/</c>; it carries the
    /// <see cref="VizHtmlOptions.AccessKey"/> when one is set.
    /// </summary>
    public Uri GetServerUrl() => BuildUrl(PublicHost(), page: null, includeKey: true);

    /// <summary>The full URL of a registered page for other devices, e.g. <c>http://192.168.1.20:8080/vizhtml/websocket/</c>, with the access key if any.</summary>
    public Uri GetServerUrl(string page) => BuildUrl(PublicHost(), page, includeKey: true);

    /// <summary>The URL of the server, or of <paramref name="page"/>, as this machine reaches it (<c>http://localhost:port/...</c>), with the access key if any.</summary>
    public Uri GetLocalUrl(string? page = null) => BuildUrl("localhost", page, includeKey: true);

    private Uri BuildUrl(string host, string? page, bool includeKey)
    {
        var scheme = _appAddress?.Invoke().Scheme ?? (_options.Certificate is not null || _options.CertificatePath is not null ? "https" : "http");
        var path = page is null ? string.Empty : PageRegistry.NormalizeName(page) + "/";
        var query = includeKey && _options.AccessKey is { } key ? $"?{AccessPolicy.KeyQueryName}={Uri.EscapeDataString(key)}" : string.Empty;
        return new Uri($"{scheme}://{FormatHost(host)}:{Port}{_mount}/{path}{query}");
    }

    /// <summary>Queues an event for every connected client and returns at once; the payload is serialized once.</summary>
    /// <param name="eventName">The event name pages listen for with <c>onevent</c>; must not start with <c>$</c>.</param>
    /// <param name="data">Anything System.Text.Json can write, or a <see cref="VizData"/>.</param>
    /// <returns>The number of clients it was queued for.</returns>
    /// <remarks>The calling thread only queues; the connections' writers run together from one thread-pool work item.</remarks>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    public int SendAll(string eventName, object? data = null) => _hub.Broadcast(eventName, data, _hub.DeliveryOf(eventName));

    /// <summary>Queues an event for every connected client with an explicit delivery class for this send.</summary>
    /// <returns>The number of clients it was queued for (a volatile event dropped for a full queue does not count).</returns>
    public int SendAll(string eventName, object? data, VizDelivery delivery) => _hub.Broadcast(eventName, data, delivery);

    /// <summary>Sets the delivery class of an event name for every later send that does not name one.</summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="delivery">What happens to this event for a client that cannot keep up; <see cref="VizDelivery.Reliable"/> unless set.</param>
    public void SetDelivery(string eventName, VizDelivery delivery) => _hub.SetDelivery(eventName, delivery);

    /// <summary>Sends an event to every connected client and completes when every socket has taken it (or its client has left).</summary>
    /// <returns>How many clients it was written to.</returns>
    public Task<int> SendAllAsync(string eventName, object? data = null, CancellationToken cancellationToken = default) =>
        _hub.BroadcastAsync(eventName, data, cancellationToken);

    /// <summary>Calls <paramref name="handler"/> for every message event named <paramref name="eventName"/> (case-sensitive).</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage(string eventName, Action<VizMessageEvent> handler) => OnMessage(eventName, Handlers.FromAction(handler));

    /// <summary>
    /// Calls an asynchronous <paramref name="handler"/> for every message event named <paramref name="eventName"/>; the next
    /// event's handlers start only once this one has completed, so order holds across awaits. An exception, before or after
    /// an await, is logged; the connection stays open.
    /// </summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage(string eventName, Func<VizMessageEvent, ValueTask> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfInvalidEventName(eventName);
        return _router.OnMessage(eventName, handler);
    }

    /// <summary>Calls <paramref name="handler"/> for every message event, whatever its name (after the named handlers).</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage(Action<VizMessageEvent> handler) => OnMessage(Handlers.FromAction(handler));

    /// <summary>Calls an asynchronous <paramref name="handler"/> for every message event, whatever its name (after the named handlers).</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage(Func<VizMessageEvent, ValueTask> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _router.OnAnyMessage(handler);
    }

    /// <summary>
    /// Calls <paramref name="handler"/> with the event's data bound to <typeparamref name="T"/>. Data that does not bind
    /// is logged and answered with an <c>$error</c> event (code <c>invalid_data</c>); the handler is not called.
    /// </summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage<T>(string eventName, Action<T, VizMessageEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return OnMessage<T>(eventName, (value, e) =>
        {
            handler(value, e);
            return default;
        });
    }

    /// <summary>As <see cref="OnMessage{T}(string, Action{T, VizMessageEvent})"/>, with an asynchronous handler.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage<T>(string eventName, Func<T, VizMessageEvent, ValueTask> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfInvalidEventName(eventName);
        return _router.OnMessage(eventName, e =>
        {
            T value;
            try
            {
                // A binary message's placeholders bind to its parts (bytes without base64); anything else as it always did.
                value = e.Parts.Count == 0 ? e.Data.As<T>(_jsonOptions) : _binaryJson.Bind<T>(e.Data, e.Parts);
            }
            catch (JsonException ex)
            {
                _logger.LogWarning("Event {Event} from {Address}: data does not fit {Type}: {Problem}", e.Event, e.Client.Address, typeof(T).Name, ex.Message);
                e.Client.Session.Connection.SendError(ProtocolErrors.InvalidData, $"data of event '{e.Event}' does not fit the expected shape");
                return default;
            }

            return handler(value, e);
        });
    }

    /// <summary>
    /// Answers the requests named <paramref name="eventName"/> (a page's <c>socket.request(name, data)</c>, a
    /// <see cref="VizHtmlClient"/>'s <c>RequestAsync</c>): the data is bound to <typeparamref name="TRequest"/> and what the
    /// handler's task returns is the answer. The handler runs where message handlers run (see <see cref="VizHtmlOptions.Dispatch"/>),
    /// in order with them, and the next event waits until its task completes. One handler per name.
    /// </summary>
    /// <remarks>
    /// Answers with errors: data that does not bind gets <c>invalid_data</c> (the handler is not called); a
    /// <see cref="VizRequestException"/> thrown by the handler gets its code and message; any other exception gets
    /// <c>handler_error</c> with a generic message (the exception is logged; its text is sent only with
    /// <see cref="VizHtmlOptions.DetailedErrors"/>). A request without a handler gets <c>no_handler</c>. The answer is a reliable
    /// event: a page that is away gets it when it resumes.
    /// </remarks>
    /// <returns>Dispose it to unregister.</returns>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    /// <exception cref="InvalidOperationException">The name has a handler already.</exception>
    public IDisposable OnRequest<TRequest, TResponse>(string eventName, Func<TRequest, VizRequestEvent, ValueTask<TResponse>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return OnRequest(eventName, e =>
        {
            TRequest value;
            try
            {
                value = e.Data.As<TRequest>(_jsonOptions);
            }
            catch (JsonException ex)
            {
                _logger.LogWarning("Request {Event} from {Address}: data does not fit {Type}: {Problem}", e.Event, e.Client.Address, typeof(TRequest).Name, ex.Message);
                throw new VizRequestException(RequestErrors.InvalidData, $"data of request '{e.Event}' does not fit the expected shape");
            }

            var pending = handler(value, e);
            return pending.IsCompletedSuccessfully ? new ValueTask<object?>(pending.Result) : BoxAsync(pending);
        });

        static async ValueTask<object?> BoxAsync(ValueTask<TResponse> pending) => await pending.ConfigureAwait(false);
    }

    /// <summary>As <see cref="OnRequest{TRequest, TResponse}(string, Func{TRequest, VizRequestEvent, ValueTask{TResponse}})"/>, with a synchronous handler.</summary>
    /// <returns>Dispose it to unregister.</returns>
    public IDisposable OnRequest<TRequest, TResponse>(string eventName, Func<TRequest, VizRequestEvent, TResponse> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return OnRequest<TRequest, TResponse>(eventName, (value, e) => new ValueTask<TResponse>(handler(value, e)));
    }

    /// <summary>Answers the requests named <paramref name="eventName"/> with what the handler's task returns; the data is read from <see cref="VizRequestEvent.Data"/>.</summary>
    /// <returns>Dispose it to unregister.</returns>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    /// <exception cref="InvalidOperationException">The name has a handler already.</exception>
    public IDisposable OnRequest(string eventName, Func<VizRequestEvent, ValueTask<object?>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfInvalidEventName(eventName);
        return _router.Requests.On(eventName, handler);
    }

    /// <summary>As <see cref="OnRequest(string, Func{VizRequestEvent, ValueTask{object?}})"/>, with a synchronous handler.</summary>
    /// <returns>Dispose it to unregister.</returns>
    public IDisposable OnRequest(string eventName, Func<VizRequestEvent, object?> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return OnRequest(eventName, e => new ValueTask<object?>(handler(e)));
    }

    /// <summary>Calls <paramref name="handler"/> when a browser connects.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnConnect(Action<VizConnectEvent> handler) => _router.OnConnect(Handlers.FromAction(handler));

    /// <summary>Calls an asynchronous <paramref name="handler"/> when a browser connects; the client's messages wait for it.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnConnect(Func<VizConnectEvent, ValueTask> handler) => _router.OnConnect(handler ?? throw new ArgumentNullException(nameof(handler)));

    /// <summary>Calls <paramref name="handler"/> when a browser disconnects, for whatever reason.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnDisconnect(Action<VizDisconnectEvent> handler) => _router.OnDisconnect(Handlers.FromAction(handler));

    /// <summary>Calls an asynchronous <paramref name="handler"/> when a browser disconnects, for whatever reason.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnDisconnect(Func<VizDisconnectEvent, ValueTask> handler) => _router.OnDisconnect(handler ?? throw new ArgumentNullException(nameof(handler)));

    /// <summary>
    /// Runs the handler work queued so far on the calling thread, for <see cref="VizDispatchMode.Manual"/>: call it once
    /// per frame from the host's loop. An <c>async</c> handler's continuations also come back here (in a later call), and
    /// the next event waits for it to complete.
    /// </summary>
    /// <param name="maxItems">At most this many events are handled in this call.</param>
    /// <returns>How many events were handled.</returns>
    /// <exception cref="InvalidOperationException">The server does not use <see cref="VizDispatchMode.Manual"/>.</exception>
    public int DispatchPending(int maxItems = int.MaxValue) => _dispatcher.DispatchPending(maxItems);

    /// <summary>Registers a page from an HTML string at <c>/vizhtml/&lt;name&gt;/</c>; registering a name again replaces it.</summary>
    /// <param name="name">The page name, e.g. <c>websocket</c>; letters, digits, '-', '_', '.' and '/' between segments.</param>
    /// <param name="html">The page's HTML; include the script with <c>&lt;script src="vizhtml.js"&gt;</c>.</param>
    /// <param name="directory">A directory whose files the page reaches by relative URL, relative paths and <c>""</c> resolved against the current directory now; <see langword="null"/> for none.</param>
    public void RegisterHtml(string name, string html, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(html);
        _pages.Add(Page.FromHtml(PageRegistry.NormalizeName(name), html, directory));
    }

    /// <summary>Registers a page from an HTML file (read on each request, so edits show on reload).</summary>
    /// <param name="name">The page name.</param>
    /// <param name="filePath">The HTML file.</param>
    /// <param name="directory">Where relative URLs are served from (<c>""</c> for the current directory); <see langword="null"/> for the file's own directory.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public void RegisterFile(string name, string filePath, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(filePath);
        _pages.Add(Page.FromFile(PageRegistry.NormalizeName(name), filePath, directory));
    }

    /// <summary>Removes one page; later requests for it get 404.</summary>
    /// <returns>Whether the page was registered.</returns>
    public bool UnregisterPage(string name) => _pages.Remove(name);

    /// <summary>Removes every page.</summary>
    public void UnregisterAllPages() => _pages.Clear();

    /// <summary>Registers a whole folder: its index file at <c>/vizhtml/&lt;name&gt;/</c> and every file below it by relative URL.</summary>
    /// <param name="name">The page name.</param>
    /// <param name="directory">The folder.</param>
    /// <param name="indexFile">The page's HTML file, relative to <paramref name="directory"/>.</param>
    /// <exception cref="FileNotFoundException">The folder has no such index file.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public void RegisterFolder(string name, string directory, string indexFile = "index.html")
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(indexFile);
        _pages.Add(Page.FromFolder(PageRegistry.NormalizeName(name), directory, indexFile));
    }

    /// <summary>
    /// Registers a custom request handler for a page URL: it receives every request under <c>/vizhtml/&lt;name&gt;/</c>
    /// (any method, any path below, form data on posts) and answers with a <see cref="VizResponse"/>, or returns
    /// <see langword="null"/> to let default serving answer (a file from <paramref name="directory"/>, a form submit).
    /// </summary>
    /// <remarks>
    /// The handler runs where message handlers run (see <see cref="VizHtmlOptions.Dispatch"/>), so it may read program
    /// state without locks. A handler that does not answer within <see cref="VizHtmlOptions.RequestHandlerTimeout"/> gets
    /// the browser a 503; one that throws gets it a 500 (the exception is logged, never sent).
    /// A form post to the page also raises <see cref="OnFormSubmit(Action{VizFormSubmitEvent})"/>, as in the original: the
    /// handler runs first (with the form as <see cref="VizRequest.Form"/>) and the browser gets its answer; then, in the same
    /// turn, the form-submit handlers get the same form, whether the handler answered, declined, threw or ran past its
    /// timeout. A request skipped before its handler ran (the browser gone, or its timeout passed while it waited) raises
    /// neither. The form's uploaded files stay readable until the form-submit handlers have finished.
    /// </remarks>
    /// <param name="name">The page name.</param>
    /// <param name="handler">The handler.</param>
    /// <param name="directory">Where declined requests are served from; <see langword="null"/> for nowhere.</param>
    public void RegisterHandler(string name, Func<VizRequest, VizResponse?> handler, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        RegisterHandler(name, request => new ValueTask<VizResponse?>(handler(request)), directory);
    }

    /// <summary>As <see cref="RegisterHandler(string, Func{VizRequest, VizResponse?}, string?)"/>, with an asynchronous handler; the timeout counts until it completes.</summary>
    /// <param name="name">The page name.</param>
    /// <param name="handler">The handler.</param>
    /// <param name="directory">Where declined requests are served from; <see langword="null"/> for nowhere.</param>
    public void RegisterHandler(string name, Func<VizRequest, ValueTask<VizResponse?>> handler, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _pages.Add(Page.FromHandler(PageRegistry.NormalizeName(name), handler, directory));
    }

    /// <summary>Calls <paramref name="handler"/> for every form submitted to a registered page or to <c>/vizhtml_form/</c>.</summary>
    /// <remarks>
    /// A form posted to a page with a request handler (<see cref="RegisterHandler(string, Func{VizRequest, VizResponse?}, string?)"/>)
    /// raises it too, after that handler has returned.
    /// A form's uploaded files past its first 64 KiB are kept in a temporary file, deleted once every form-submit handler has
    /// returned: read them in the handler (<see cref="VizFormFile.OpenRead"/>).
    /// </remarks>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnFormSubmit(Action<VizFormSubmitEvent> handler) => _router.OnFormSubmit(Handlers.FromAction(handler));

    /// <summary>Calls an asynchronous <paramref name="handler"/> for every form submitted to a registered page or to <c>/vizhtml_form/</c>.</summary>
    /// <remarks>
    /// A form posted to a page with a request handler raises it too, after that handler has returned.
    /// A form's uploaded files past its first 64 KiB are kept in a temporary file, deleted once every form-submit handler has
    /// completed: an <c>async</c> handler may read them across its awaits.
    /// </remarks>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnFormSubmit(Func<VizFormSubmitEvent, ValueTask> handler) => _router.OnFormSubmit(handler ?? throw new ArgumentNullException(nameof(handler)));

    /// <summary>
    /// Waits for the next form submit (the counterpart of the original's <c>yield waitFormSubmit()</c>).
    /// </summary>
    /// <remarks>
    /// The form reaches the caller after the handlers have finished, so its uploaded files are kept for it: those past the
    /// form's first 64 KiB stay in a temporary file until the form is garbage-collected or the server is disposed.
    /// </remarks>
    /// <param name="page">Only a form from this page; <see langword="null"/> for any form.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The submitted form, delivered where handlers are delivered.</returns>
    public Task<VizFormSubmitEvent> WaitFormSubmitAsync(string? page = null, CancellationToken cancellationToken = default)
    {
        var wanted = page is null ? null : PageRegistry.NormalizeName(page);
        var result = new TaskCompletionSource<VizFormSubmitEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        IDisposable? subscription = null;
        subscription = _router.OnFormSubmit(e =>
        {
            if ((wanted is null || e.Page == wanted) && result.TrySetResult(e))
            {
                e.KeepFilesForWaiter();
                subscription?.Dispose();
            }

            return default;
        });
        if (result.Task.IsCompleted)
        {
            subscription.Dispose();
        }

        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() =>
            {
                subscription.Dispose();
                result.TrySetCanceled(cancellationToken);
            });
            _ = result.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return result.Task;
    }

    /// <summary>Opens the server's index, or <paramref name="page"/>, in this machine's default browser.</summary>
    /// <returns><see langword="false"/> when no browser could be started (the reason is logged).</returns>
    public bool OpenInBrowser(string? page = null)
    {
        var url = GetLocalUrl(page).ToString();
        var start = OperatingSystem.IsWindows() ? new ProcessStartInfo(url) { UseShellExecute = true }
            : OperatingSystem.IsMacOS() ? new ProcessStartInfo("open", QuoteArgument(url))
            : new ProcessStartInfo("xdg-open", QuoteArgument(url));
        start.RedirectStandardError = !OperatingSystem.IsWindows();
        try
        {
            using var process = Process.Start(start);
            return process is not null;
        }
        catch (Win32Exception ex)
        {
            _logger.LogWarning("Could not open {Url} in a browser: {Problem}", url, ex.Message);
            return false;
        }
    }

    private static void ThrowIfInvalidEventName(string eventName)
    {
        if (Envelope.ValidateEventName(eventName) is { } problem)
        {
            throw new ArgumentException($"Invalid event name '{eventName}': {problem}.", nameof(eventName));
        }
    }

    private static string FormatHost(string host) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;

    private string PublicHost()
    {
        if (_options.PublicHost is { } configured)
        {
            return configured;
        }

        if (_options.BindAddress is { } bound && !bound.Equals(IPAddress.Any) && !bound.Equals(IPAddress.IPv6Any))
        {
            return IPAddress.IsLoopback(bound) ? "localhost" : bound.ToString();
        }

        return LanAddress() ?? Dns.GetHostName();
    }

    private static string? LanAddress()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))?.ToString();
        }
        catch (NetworkInformationException)
        {
            return null;
        }
    }

    // The URL VizHtml built: escaped, so it holds no quote or space.
    private static string QuoteArgument(string url) => "\"" + url + "\"";

    private static VizHtmlOptions DefaultOptionsFromEnvironment()
    {
        var options = new VizHtmlOptions();
        var port = Environment.GetEnvironmentVariable(VizHtmlOptions.PortEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(port))
        {
            options.Port = int.TryParse(port, out var parsed) && parsed is >= 0 and <= 65535
                ? parsed
                : throw new InvalidOperationException($"{VizHtmlOptions.PortEnvironmentVariable} is '{port}', which is not a port number (0..65535).");
        }

        return options;
    }
}
