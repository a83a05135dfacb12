using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VizHtml.Connections;
using VizHtml.Diagnostics;
using VizHtml.Events;
using VizHtml.Protocol;

namespace VizHtml.Sessions;

/// <summary>
/// Every client's session: accepts sockets, runs the version 2 handshake (new session or resume, in
/// <c>SessionHub.Handshake.cs</c>), sends and broadcasts, hands messages to the dispatcher, reports connects and
/// disconnects, and once a second expires away sessions and sends heartbeats. Host-neutral: a host hands it an accepted
/// <see cref="WebSocket"/>.
/// </summary>
internal sealed partial class SessionHub : IObservedState
{
    private readonly VizHtmlOptions _options;
    private readonly ConnectionOptions _connectionOptions;
    private readonly EnvelopeReader _reader;
    private readonly EnvelopeSerializer _serializer;
    private readonly Dispatcher _dispatcher;
    private readonly EventRouter _router;
    private readonly ISessionStore _store;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, VizDelivery> _deliveryByEvent = new(StringComparer.Ordinal);

    // Taken around a broadcast's logging and its choice of recipients, and around a client's leaving or returning, so
    // every broadcast reaches a version 2 client either on its connection or through the log, never both or neither.
    private readonly Lock _membership = new();
    private volatile bool _accepting;
    private volatile string _epoch = NewId();
    private TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SessionHub(VizHtmlOptions options, EnvelopeSerializer serializer, Dispatcher dispatcher, EventRouter router, ISessionStore store, ILogger logger, VizHtmlMetrics? metrics = null)
    {
        _options = options;
        Metrics = metrics;
        _connectionOptions = new ConnectionOptions(options.MaxMessageBytes, options.MaxMessagesPerSecond, options.MaxQueuedMessages, options.MaxQueuedBytes, options.SendTimeout, options.CloseTimeout, options.TimeProvider, new MessageAssemblyLimits(options.MaxAssemblyBytes, options.MaxAssemblyBytesPerAddress, options.MaxMessageFrames, options.MessageAssemblyTimeout), metrics);
        _reader = new EnvelopeReader(options.MaxJsonDepth);
        _serializer = serializer;
        _dispatcher = dispatcher;
        _router = router;
        _store = store;
        _logger = logger;
        Log = new BroadcastLog(options.ReplayBufferMessages, options.ReplayBufferBytes, options.ResumeTimeout, options.TimeProvider);
        ReplayBudget = new ReplayBudget(options.TotalReplayBufferBytes);
    }

    /// <summary>The broadcasts kept once for every client that is away.</summary>
    public BroadcastLog Log { get; }

    /// <summary>The bytes all replay buffers hold together.</summary>
    public ReplayBudget ReplayBudget { get; }

    /// <summary>The connected clients.</summary>
    public ClientRegistry Connected { get; } = new();

    private long _retiredBytesSent;

    /// <summary>How many version 2 clients are away and may still resume.</summary>
    public int AwayCount => _store.AwayCount;

    /// <summary>The server's instruments; <see langword="null"/> for a hub made outside a server.</summary>
    public VizHtmlMetrics? Metrics { get; }

    int IObservedState.ConnectedClients => Connected.Count;

    int IObservedState.AwaySessions => AwayCount;

    // Walked only when a listener collects (every few seconds), never on a send.
    long IObservedState.QueuedMessages
    {
        get
        {
            long total = 0;
            foreach (var client in Connected.Current)
            {
                total += client.Session.Connection.QueuedMessages;
            }

            return total;
        }
    }

    // The same walk: each connection counts what it writes in a field of its own (no listener is called per write), and a
    // connection's count moves into _retiredBytesSent once it is out of the registry.
    long IObservedState.BytesSent
    {
        get
        {
            var total = Interlocked.Read(ref _retiredBytesSent);
            foreach (var client in Connected.Current)
            {
                total += client.Session.Connection.BytesWritten;
            }

            return total;
        }
    }

    long IObservedState.QueuedBytes
    {
        get
        {
            long total = 0;
            foreach (var client in Connected.Current)
            {
                total += client.Session.Connection.QueuedBytes;
            }

            return total;
        }
    }

    /// <summary>Told of every client that left, before its disconnect event is posted (the status page's ring); null when none listens.</summary>
    public Action<VizDisconnectEvent>? Departed { get; set; }

    /// <summary>Whether new sockets are taken (false before start and while stopping: they get 503).</summary>
    public bool Accepting
    {
        get => _accepting;
        set => _accepting = value;
    }

    /// <summary>
    /// Identifies this server's run, new on every start (<see cref="StartNewEpoch"/>): a client that finds another epoch knows
    /// the program started over, and drops what it queued for the old run.
    /// </summary>
    public string Epoch => _epoch;

    /// <summary>Begins a new run: called on every start, after a stop has ended every session of the last one.</summary>
    public void StartNewEpoch() => _epoch = NewId();

    public VizDelivery DeliveryOf(string eventName) =>
        _deliveryByEvent.IsEmpty || !_deliveryByEvent.TryGetValue(eventName, out var delivery) ? VizDelivery.Reliable : delivery;

    public void SetDelivery(string eventName, VizDelivery delivery)
    {
        ThrowIfInvalidEventName(eventName);
        _deliveryByEvent[eventName] = delivery;
    }

    /// <summary>
    /// Serializes an event once, for any number of clients: a text envelope, or with bytes in the data a binary payload
    /// (each client gets the form it was granted, see <see cref="Connection.AcceptsBinary"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    public ReadOnlyMemory<byte> Serialize(string eventName, object? data)
    {
        ThrowIfInvalidEventName(eventName);
        return _serializer.SerializeWithParts(eventName, data);
    }

    /// <summary>
    /// Queues an event for every connected client; the writers it finds waiting are woken together from one thread-pool
    /// work item. Clients that are away are not visited: the log keeps the event for their return.
    /// </summary>
    /// <returns>How many connected clients it was queued for.</returns>
    public int Broadcast(string eventName, object? data, VizDelivery delivery)
    {
        var message = OutboundMessage.Event(Serialize(eventName, data), delivery, eventName);
        var (position, clients) = Recipients(message, eventName);
        var queued = 0;
        var wakes = WakeList.Rent();
        foreach (var client in clients)
        {
            if (client.Session.SendBroadcast(message, position, Wake.Into(wakes)) && client.IsConnected)
            {
                queued++;
            }
        }

        wakes.WakeFromThreadPool();

        // Once per broadcast, with its number of recipients: not once per client.
        Metrics?.EventsSent(queued, delivery);
        return queued;
    }

    /// <summary>
    /// Sends an event to every client and completes when every socket has taken it (or its client has left). The writers it
    /// finds waiting run on the caller's thread, as for one client's <c>SendAsync</c>: the caller waits for their writes
    /// anyway, and a caller that blocks on the task (a handler's <c>.Wait()</c>) then needs no other thread to finish it.
    /// A write that cannot complete at once (a slow client) goes on without the caller's thread; the task completes when it does.
    /// </summary>
    public async Task<int> BroadcastAsync(string eventName, object? data, CancellationToken cancellationToken)
    {
        var payload = Serialize(eventName, data);
        var delivery = DeliveryOf(eventName);
        var (position, view) = Recipients(OutboundMessage.Event(payload, delivery, eventName), eventName);
        var deliveries = new List<Task<bool>>(view.Live);
        foreach (var client in view)
        {
            deliveries.Add(SendAndTrack(client.Session, eventName, payload, delivery, Wake.Inline, cancellationToken, position));
        }

        if (Metrics is { } metrics)
        {
            // Counted as SendAll counts, once: the clients it was queued for. A task already false is one that was not
            // queued (a writer that was busy may already have written one: true).
            metrics.EventsSent(deliveries.Count(d => d.Status != TaskStatus.RanToCompletion || d.Result), delivery);
        }

        var results = await Task.WhenAll(deliveries).ConfigureAwait(false);
        return results.Count(delivered => delivered);
    }

    /// <summary>
    /// Logs a broadcast for the clients that are away and takes the connected ones, in one step against clients leaving
    /// and returning. A volatile event is not logged (it is lost for whoever is away) and needs no such step.
    /// </summary>
    private (long Position, ClientRegistry.View Clients) Recipients(in OutboundMessage message, string eventName)
    {
        if (message.Delivery == VizDelivery.Volatile)
        {
            return (long.MaxValue, Connected.Current);
        }

        lock (_membership)
        {
            return (Log.Append(message.Payload, message.Delivery, eventName), Connected.Current);
        }
    }

    /// <summary>
    /// Queues an event and returns a task that completes when it has been written (true) or never will be (false): sent to
    /// this client alone, or (with <paramref name="broadcastPosition"/>) as a broadcast the log keeps at that position.
    /// </summary>
    public static Task<bool> SendAndTrack(Session session, string eventName, ReadOnlyMemory<byte> payload, VizDelivery delivery, Wake wake, CancellationToken cancellationToken, long? broadcastPosition = null)
    {
        var delivered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var message = OutboundMessage.Event(payload, delivery, eventName, delivered);
        if (!(broadcastPosition is { } position ? session.SendBroadcast(message, position, wake) : session.Send(message, wake)))
        {
            delivered.TrySetResult(false);
        }
        else if (broadcastPosition is null)
        {
            // A broadcast's are counted once for all its recipients.
            session.Hub.Metrics?.EventsSent(1, delivery);
        }

        return delivered.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Runs one accepted socket until it ends. A version 1 client is connected at once; a version 2 client (it says so in
    /// the URL) becomes a new or resumed session when its <c>$hello</c> arrives.
    /// </summary>
    public async Task RunSocketAsync(WebSocket socket, SocketPeer peer, CancellationToken aborted)
    {
        var handshake = new Handshake(this, peer);
        var connection = new Connection(socket, peer.Address, handshake, _connectionOptions, _reader, _logger);
        if (peer.SpeaksVersion2)
        {
            handshake.CloseUnlessHelloWithin(connection, _options.HandshakeTimeout, _options.TimeProvider);
        }
        else
        {
            var session = new Session(this, connection, NewClientInfo(peer), replay: null);
            Connected.Add(session.Client);
            Metrics?.ConnectionOpened(protocolVersion: 1);
            _logger.LogDebug("Client {Client} connected", session.Client);
            Post(new VizConnectEvent(session.Client, resumed: false, recovered: false));
        }

        try
        {
            await connection.RunAsync(aborted).ConfigureAwait(false);
        }
        finally
        {
            OnConnectionEnded(connection);

            // Out of the registry now (or never in it, or replaced in its session by a resume): its bytes stay counted here.
            Interlocked.Add(ref _retiredBytesSent, connection.BytesWritten);
        }
    }

    /// <summary>A message from a client, for the handlers: the read loop may run them itself when the dispatcher is idle.</summary>
    public void Deliver(Session session, InboundEnvelope envelope)
    {
        Metrics?.EventReceived();
        session.CountEventReceived();
        var e = new VizMessageEvent(envelope.EventName!, envelope.Payload, session.Client, envelope.Parts);
        _dispatcher.PostFromReader(() => _router.DeliverAsync(e));
    }

    private void OnConnectionEnded(Connection connection)
    {
        // A connection that never said $hello, or one a resumed connection replaced, has nothing to report.
        if (connection.Handler is not Session session || connection.Superseded)
        {
            return;
        }

        var reason = connection.CloseReason;

        // A lost or too-slow connection, or one the server had no room for (1013, try again later), may come back; a close
        // by either side, a protocol violation or a stop may not.
        var canResume = session.Resumable && _accepting
            && (reason is VizDisconnectReason.ConnectionLost or VizDisconnectReason.SlowConsumer or VizDisconnectReason.ServerBusy
                || (reason == VizDisconnectReason.ClientClosed && (int?)connection.CloseStatus == Envelope.ResumableCloseStatus));
        lock (_membership)
        {
            if (!session.Detach(connection, canResume, _options.TimeProvider.GetTimestamp(), Log.Position, out canResume))
            {
                return;
            }

            Connected.Remove(session.Client);
        }

        if (canResume)
        {
            foreach (var over in _store.SetAway(session, away: true))
            {
                Evict(over, "more clients were away than MaxAwaySessions allows, in all or from its address (MaxConnectionsPerAddress)");

                // With a limit of 0 it is forgotten at once: it cannot come back.
                canResume &= over != session;
            }

            if (!session.IsAway)
            {
                // It came back (or was forgotten) between leaving and being filed as away.
                _store.SetAway(session, away: false);
            }

            EnforceReplayBudget();
        }
        else
        {
            End(session);
        }

        Interlocked.Exchange(ref _disconnected, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        Metrics?.ConnectionClosed(reason);
        var e = new VizDisconnectEvent(session.Client, reason, (int?)connection.CloseStatus, connection.CloseDescription, canResume);
        _logger.LogDebug("Client {Client} disconnected: {Reason}", session.Client, e.Reason);
        Departed?.Invoke(e);
        Post(e);
    }

    /// <summary>Ends a session for good (closed by either side, expired, or the server stops).</summary>
    public void End(Session session)
    {
        session.End();
        _store.Remove(session);
    }

    /// <summary>
    /// Keeps every replay buffer together within <see cref="VizHtmlOptions.TotalReplayBufferBytes"/>: the sessions away
    /// longest are forgotten first (the store keeps their number within its limits itself); a page forgotten gets a fresh
    /// session and a <c>'resync'</c> when it comes back.
    /// </summary>
    private void EnforceReplayBudget()
    {
        while (ReplayBudget.Exceeded && _store.OldestAway() is { } oldest)
        {
            Evict(oldest, "the replay buffers hold more than TotalReplayBufferBytes");
        }
    }

    private void Evict(Session session, string why)
    {
        // Not when it came back meanwhile: then it is connected, and no longer counted as away.
        if (session.EndIfAway())
        {
            _store.Remove(session);
            _logger.LogDebug("Forgot client {Client}, which was away: {Why}", session.Client, why);
        }
    }

    /// <summary>Closes every connection with 1001 and forgets every session (the server stops; it has set <see cref="Accepting"/> false).</summary>
    public void CloseAll()
    {
        foreach (var session in _store.Clear())
        {
            session.End();
        }

        foreach (var client in Connected.Current)
        {
            client.Session.Connection.Close(CloseKind.AfterQueued, VizDisconnectReason.ServerStopping, WebSocketCloseStatus.EndpointUnavailable, "server stopping");
        }
    }

    /// <summary>Completes when no client is connected any more (after <see cref="CloseAll"/>, on a host that keeps running).</summary>
    public async Task WaitUntilNoneConnectedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var next = Volatile.Read(ref _disconnected).Task;
            if (Connected.Count == 0)
            {
                return;
            }

            await next.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Once a second: forget sessions away for longer than the resume timeout, and send heartbeats on quiet connections.</summary>
    public async Task RunMaintenanceAsync(CancellationToken cancellationToken)
    {
        var time = _options.TimeProvider;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = time.GetTimestamp();
                while (_store.OldestAway() is { } session)
                {
                    if (!session.IsAway)
                    {
                        // Filed as away just as it came back: no longer away.
                        _store.SetAway(session, away: false);
                    }
                    else if (session.ExpireIfAwayLongerThan(_options.ResumeTimeout, now, time))
                    {
                        End(session);
                    }
                    else
                    {
                        // Oldest first: the first that has not expired ends the walk.
                        break;
                    }
                }

                EnforceReplayBudget();

                var wakes = WakeList.Rent();
                foreach (var client in Connected.Current)
                {
                    var connection = client.Session.Connection;
                    connection.TrimIdleBuffers();
                    if (client.Session.Resumable && time.GetElapsedTime(connection.LastWriteTimestamp, now) >= _options.HeartbeatInterval)
                    {
                        connection.Send(OutboundMessage.Control(HeartbeatPayload), Wake.Into(wakes));
                    }
                }

                wakes.WakeFromThreadPool();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static readonly byte[] HeartbeatPayload = """{"event":"$heartbeat","data":null}"""u8.ToArray();

    private void Post(VizConnectEvent e) => _dispatcher.Post(() => _router.DeliverAsync(e));

    private void Post(VizDisconnectEvent e) => _dispatcher.Post(() => _router.DeliverAsync(e));

    private VizClientInfo NewClientInfo(SocketPeer peer) => new(NewId(), peer.Address, _options.TimeProvider.GetUtcNow(), peer.User, peer.UserAgent);

    private static void ThrowIfInvalidEventName(string eventName)
    {
        if (Envelope.ValidateEventName(eventName) is { } problem)
        {
            throw new ArgumentException($"Invalid event name '{eventName}': {problem}.", nameof(eventName));
        }
    }

    private static string NewId()
    {
        Span<byte> bytes = stackalloc byte[9];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }
}

/// <summary>Who is on the other end of an accepted socket, as the host saw the upgrade request.</summary>
/// <param name="Address">The peer's IP address as text.</param>
/// <param name="SpeaksVersion2">Whether the URL asked for protocol version 2 (<c>?v=2</c>).</param>
/// <param name="User">The user the host authenticated, if any.</param>
/// <param name="UserAgent">The upgrade request's User-Agent header, for the status page.</param>
internal readonly record struct SocketPeer(string Address, bool SpeaksVersion2, System.Security.Claims.ClaimsPrincipal? User, string? UserAgent = null);
