using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using VizHtml.Connections;
using VizHtml.Events;
using VizHtml.Hosting;
using VizHtml.Pages;
using VizHtml.Protocol;

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
    private readonly EventRouter _router;
    private readonly Dispatcher _dispatcher;
    private readonly ConnectionRegistry _registry = new();

    // Everyone a broadcast is for: connected clients, and version 2 clients that are away but may resume.
    private readonly ConnectionRegistry _targets = new();
    private readonly PageRegistry _pages = new();
    private readonly EnvelopeSerializer _serializer;
    private readonly EnvelopeReader _envelopeReader;
    private readonly JsonSerializerOptions _jsonOptions;
    private readonly ConnectionOptions _connectionOptions;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly Action<Connection, InboundEnvelope> _onEnvelope;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, VizDelivery> _deliveryByEvent = new(StringComparer.Ordinal);
    private readonly ConnectionLimits _connectionLimits;
    private EmbeddedHost? _host;

    /// <summary>The running Kestrel host, for tests.</summary>
    internal EmbeddedHost? Host => _host;
    private CancellationTokenSource? _maintenanceStop;
    private Task? _maintenance;
    private int _port;
    private volatile bool _accepting;
    private bool _disposed;

    /// <summary>Creates a server; it listens once <see cref="StartAsync"/> is called.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults. Copied: later changes have no effect.</param>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public VizHtmlServer(VizHtmlOptions? options = null)
    {
        _options = options?.Clone() ?? new VizHtmlOptions();
        _options.Validate();
        _ownedLoggerFactory = _options.LoggerFactory is null ? LoggerFactory.Create(b => b.AddSimpleConsole(c => c.SingleLine = true).SetMinimumLevel(LogLevel.Warning)) : null;
        var loggerFactory = _options.LoggerFactory ?? _ownedLoggerFactory!;
        _loggerFactory = _options.AccessKey is { } key ? new Security.RedactingLoggerFactory(loggerFactory, key) : loggerFactory;
        _logger = _loggerFactory.CreateLogger("VizHtml");
        _router = new EventRouter(_loggerFactory.CreateLogger("VizHtml.Events"));
        _dispatcher = Dispatcher.Create(_options.Dispatch, _options.SynchronizationContext, _loggerFactory.CreateLogger("VizHtml.Events"));
        _jsonOptions = _options.JsonSerializerOptions ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
        _serializer = new EnvelopeSerializer(_jsonOptions);
        _envelopeReader = new EnvelopeReader(_options.MaxJsonDepth);
        _connectionOptions = new ConnectionOptions(_options.MaxMessageBytes, _options.MaxMessagesPerSecond, _options.MaxQueuedMessages, _options.MaxQueuedBytes, _options.SendTimeout, _options.CloseTimeout, _options.TimeProvider);
        _onEnvelope = OnEnvelope;
        _port = _options.Port;
        _connectionLimits = new ConnectionLimits(_options.MaxConnections, _options.MaxConnectionsPerAddress);
    }

    /// <summary>
    /// The process-wide server that starts by itself on first use, as the original module does. Its port is
    /// <see cref="ConfigureDefault"/>'s, else the <c>VIZHTML_PORT</c> environment variable, else 8080.
    /// </summary>
    /// <exception cref="IOException">The port is in use (the message names it).</exception>
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

    /// <summary>Whether the server is listening.</summary>
    public bool IsRunning => _host is not null;

    /// <summary>
    /// The port the server listens on: the one chosen by the system when <see cref="VizHtmlOptions.Port"/> is 0.
    /// A stopped server keeps it and listens on it again when restarted.
    /// </summary>
    public int Port => _port;

    /// <summary>The connected clients: a snapshot that does not change as clients come and go.</summary>
    public IReadOnlyList<VizClient> Clients => _registry.Snapshot;

    /// <summary>How many clients are connected.</summary>
    public int ClientCount => _registry.Count;

    internal ILogger Logger => _logger;

    internal VizHtmlOptions Options => _options;

    /// <summary>Starts listening. Does nothing if already started.</summary>
    /// <exception cref="IOException">The port is in use.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_host is not null)
            {
                return;
            }

            var handler = new VizHtmlRequestHandler(this, _pages, new Security.AccessPolicy(_options));
            _host = await EmbeddedHost.StartAsync(_options, _port, _loggerFactory, handler.HandleAsync, cancellationToken).ConfigureAwait(false);

            // A restart keeps the port the system chose, so open pages find the server again.
            _port = _host.Port;
            _accepting = true;
            _maintenanceStop = new CancellationTokenSource();
            _maintenance = RunMaintenanceAsync(_maintenanceStop.Token);
            _logger.LogInformation("VizHtml listening on port {Port}: {Url}", _host.Port, BuildUrl(PublicHost(), page: null, includeKey: false));
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Stops listening: queued events are flushed, every client is closed with 1001 (going away) and its disconnect
    /// event raised, then the listener stops. Clients still open after <see cref="VizHtmlOptions.ShutdownTimeout"/> are cut off.
    /// Pages and handlers stay registered for a later <see cref="StartAsync"/>.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_host is not { } host)
            {
                return;
            }

            _accepting = false;
            if (_maintenanceStop is not null)
            {
                await _maintenanceStop.CancelAsync().ConfigureAwait(false);
                await _maintenance!.ConfigureAwait(false);
                _maintenanceStop.Dispose();
                _maintenanceStop = null;
            }

            // A stop ends every session: after a restart nothing can be resumed (the page is told recovered: false).
            _sessionsByToken.Clear();
            foreach (var (_, away) in _away)
            {
                _targets.Remove(away);
            }

            _away.Clear();
            foreach (var client in _registry.Current)
            {
                client.Connection.RequestClose(VizDisconnectReason.ServerStopping, WebSocketCloseStatus.EndpointUnavailable, "server stopping");
            }

            using var grace = new CancellationTokenSource(_options.ShutdownTimeout, _options.TimeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(grace.Token, cancellationToken);
            await host.StopAsync(linked.Token).ConfigureAwait(false);
            await host.DisposeAsync().ConfigureAwait(false);
            _host = null;
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
        lock (DefaultGate)
        {
            if (ReferenceEquals(s_default, this))
            {
                s_default = null;
            }
        }

        _ownedLoggerFactory?.Dispose();

        _lifecycle.Dispose();
    }

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
        var scheme = _options.Certificate is not null || _options.CertificatePath is not null ? "https" : "http";
        var path = page is null ? string.Empty : PageRegistry.NormalizeName(page) + "/";
        var query = includeKey && _options.AccessKey is { } key ? $"?{Security.AccessPolicy.KeyQueryName}={Uri.EscapeDataString(key)}" : string.Empty;
        return new Uri($"{scheme}://{FormatHost(host)}:{Port}{VizHtmlRequestHandler.Prefix}/{path}{query}");
    }

    /// <summary>Queues an event for every connected client and returns at once; the payload is serialized once.</summary>
    /// <param name="eventName">The event name pages listen for with <c>onevent</c>; must not start with <c>$</c>.</param>
    /// <param name="data">Anything System.Text.Json can write, or a <see cref="VizData"/>.</param>
    /// <returns>The number of clients it was queued for.</returns>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    public int SendAll(string eventName, object? data = null) => SendAll(eventName, data, DeliveryOf(eventName));

    /// <summary>Queues an event for every connected client with an explicit delivery class for this send.</summary>
    /// <returns>The number of clients it was queued for (a volatile event dropped for a full queue does not count).</returns>
    public int SendAll(string eventName, object? data, VizDelivery delivery)
    {
        var frame = OutboundFrame.Message(Serialize(eventName, data), delivery, eventName);
        var queued = 0;

        // The writers this wakes run together in one thread-pool work item once every queue has the event.
        using (SendQueue.DeferWakes())
        {
            foreach (var client in _targets.Current)
            {
                // A client that is away keeps the event for its return, but is not counted.
                if (client.Enqueue(frame) && client.IsConnected)
                {
                    queued++;
                }
            }
        }

        return queued;
    }

    /// <summary>Sets the delivery class of an event name for every later send that does not name one.</summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="delivery">What happens to this event for a client that cannot keep up; <see cref="VizDelivery.Reliable"/> unless set.</param>
    public void SetDelivery(string eventName, VizDelivery delivery)
    {
        ThrowIfInvalidEventName(eventName);
        _deliveryByEvent[eventName] = delivery;
    }

    internal VizDelivery DeliveryOf(string eventName) =>
        _deliveryByEvent.IsEmpty || !_deliveryByEvent.TryGetValue(eventName, out var delivery) ? VizDelivery.Reliable : delivery;

    /// <summary>Sends an event to every connected client and completes when every socket has taken it (or its client has left).</summary>
    /// <returns>How many clients it was written to.</returns>
    public async Task<int> SendAllAsync(string eventName, object? data = null, CancellationToken cancellationToken = default)
    {
        var payload = Serialize(eventName, data);
        var clients = _targets.Snapshot;
        var deliveries = new Task<bool>[clients.Length];
        for (var i = 0; i < clients.Length; i++)
        {
            deliveries[i] = clients[i].SendPayloadAsync(eventName, payload, cancellationToken);
        }

        var results = await Task.WhenAll(deliveries).ConfigureAwait(false);
        return results.Count(delivered => delivered);
    }

    /// <summary>Calls <paramref name="handler"/> for every message event named <paramref name="eventName"/> (case-sensitive).</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage(string eventName, Action<VizMessageEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfInvalidEventName(eventName);
        return _router.OnMessage(eventName, handler);
    }

    /// <summary>Calls <paramref name="handler"/> for every message event, whatever its name (after the named handlers).</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage(Action<VizMessageEvent> handler)
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
        ThrowIfInvalidEventName(eventName);
        return _router.OnMessage(eventName, e =>
        {
            T value;
            try
            {
                value = e.Data.As<T>(_jsonOptions);
            }
            catch (JsonException ex)
            {
                _logger.LogWarning("Event {Event} from {Address}: data does not fit {Type}: {Problem}", e.Event, e.Client.Address, typeof(T).Name, ex.Message);
                e.Client.Connection.TryEnqueue(OutboundFrame.Message(EnvelopeSerializer.SerializeError(ProtocolErrors.InvalidData, $"data of event '{e.Event}' does not fit the expected shape")));
                return;
            }

            handler(value, e);
        });
    }

    /// <summary>Calls <paramref name="handler"/> when a browser connects.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnConnect(Action<VizConnectEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _router.OnConnect(handler);
    }

    /// <summary>Calls <paramref name="handler"/> when a browser disconnects, for whatever reason.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnDisconnect(Action<VizDisconnectEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _router.OnDisconnect(handler);
    }

    /// <summary>
    /// Runs the handler work queued so far on the calling thread, for <see cref="VizDispatchMode.Manual"/>: call it once
    /// per frame from the host's loop.
    /// </summary>
    /// <param name="maxItems">At most this many events are handled in this call.</param>
    /// <returns>How many events were handled.</returns>
    /// <exception cref="InvalidOperationException">The server does not use <see cref="VizDispatchMode.Manual"/>.</exception>
    public int DispatchPending(int maxItems = int.MaxValue) => _dispatcher.DispatchPending(maxItems);

    internal byte[] Serialize(string eventName, object? data)
    {
        ThrowIfInvalidEventName(eventName);
        return _serializer.Serialize(eventName, data);
    }

    internal async Task AcceptSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("This is the VizHtml WebSocket endpoint: connect with a WebSocket client.", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (!_accepting)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        var address = FormatAddress(context.Connection.RemoteIpAddress);
        if (!_connectionLimits.TryAcquire(address, out var refusal))
        {
            _logger.LogWarning("Refused a socket from {Address}: {Problem}", address, refusal.Message);
            context.Response.StatusCode = refusal.StatusCode;
            await context.Response.WriteAsync(refusal.Message, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        try
        {
            await RunSocketAsync(context, address).ConfigureAwait(false);
        }
        finally
        {
            _connectionLimits.Release(address);
        }
    }

    private static void ThrowIfInvalidEventName(string eventName)
    {
        if (Envelope.ValidateEventName(eventName) is { } problem)
        {
            throw new ArgumentException($"Invalid event name '{eventName}': {problem}.", nameof(eventName));
        }
    }

    internal static string NewClientId()
    {
        Span<byte> bytes = stackalloc byte[9];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }

    internal static string FormatAddress(IPAddress? address) => address switch
    {
        null => "unknown",
        { IsIPv4MappedToIPv6: true } => address.MapToIPv4().ToString(),
        _ => address.ToString(),
    };

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
