using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VizHtml.Events;
using VizHtml.Protocol;

namespace VizHtml;

/// <summary>An event a <see cref="VizHtmlClient"/> received from the server.</summary>
public sealed partial class VizClientMessageEvent
{
    internal VizClientMessageEvent(string eventName, VizData data)
    {
        Event = eventName;
        Data = data;
    }

    /// <summary>The event name (case-sensitive).</summary>
    public string Event { get; }

    /// <summary>The payload.</summary>
    public VizData Data { get; }
}

/// <summary>A change in a <see cref="VizHtmlClient"/>'s connection.</summary>
public sealed class VizClientConnectionEvent
{
    internal VizClientConnectionEvent(bool connected, bool resumed, bool recovered, bool restarted = false, int dropped = 0)
    {
        Connected = connected;
        Resumed = resumed;
        Recovered = recovered;
        Restarted = restarted;
        Dropped = dropped;
    }

    /// <summary><see langword="true"/> for a (re)connect, <see langword="false"/> for a lost connection.</summary>
    public bool Connected { get; }

    /// <summary>For a connect: whether the server took the client back into its session.</summary>
    public bool Resumed { get; }

    /// <summary>For a connect: whether nothing was lost in either direction. When <see langword="false"/> after a resume, resync the state.</summary>
    public bool Recovered { get; }

    /// <summary>For a reconnect: whether the server is a new run (it restarted: its welcome has another <c>epoch</c> than the last one). Nothing of the old session is left; resync the state.</summary>
    public bool Restarted { get; }

    /// <summary>
    /// For a reconnect to a <see cref="Restarted"/> server: how many sends made, or not yet acknowledged, before the restart were
    /// dropped instead of delivered to the new run (0 with <see cref="VizHtmlClientOptions.KeepPendingAcrossRestart"/>). Send
    /// again what still matters.
    /// </summary>
    public int Dropped { get; }
}

/// <summary>
/// A .NET program's connection to a VizHtml server, speaking protocol version 2 as <c>vizhtml.js</c> does: it reconnects
/// by itself with backoff and jitter, resumes its session, and delivers every event exactly once and in order both ways
/// while the gap fits the server's replay buffer and <see cref="VizHtmlClientOptions.MaxPendingSends"/>.
/// Handlers run one at a time on the client's receive loop. Thread-safe.
/// </summary>
public sealed partial class VizHtmlClient : IAsyncDisposable
{
    // As vizhtml.js: acknowledged after 128 events, 256 KB of frames, or about a second after the first unacknowledged one.
    private const int AckEvery = 128;
    private const long AckBytes = 256 * 1024;
    private const long AckDelayMilliseconds = 1000;

    // A client that reads says so at least this often, acknowledged events or not: the server pings (and may drop as
    // dead) only a peer it has not heard from, and a ping's answer can wait behind a long backlog.
    private const long ReadingAckMilliseconds = 5000;

    private readonly Uri _socketUri;
    private readonly string _loggedUri;
    private readonly VizHtmlClientOptions _options;
    private readonly Protocol.EnvelopeSerializer _serializer;
    private readonly ILogger _logger;
    private readonly MessageHandlers<VizClientMessageEvent> _messages;
    private readonly HandlerList<Func<VizClientConnectionEvent, ValueTask>> _connectionHandlers = new();
    private readonly HandlerList<Func<VizClientState, ValueTask>> _stateHandlers = new();
    private readonly Lock _gate = new();
    private readonly Queue<(long Seq, byte[] Payload, long Timestamp)> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private Channel<byte[]>? _outbox;
    private Task? _run;
    private string? _token;
    private string? _epoch;
    private long _lastReceived;
    private long _lastAcked;
    private long _unackedBytes;
    private long _ackedAt;
    private long _lastSent;
    private long _lastInbound;
    private TimeSpan _heartbeat = TimeSpan.FromSeconds(15);
    private volatile bool _welcomed;
    private volatile VizClientState _state;
    private volatile string? _lastFailure;

    /// <summary>Creates a client for a server; call <see cref="StartAsync"/> to connect.</summary>
    /// <param name="server">The server's base URL (<c>http://host:8080/</c>) or its socket URL (<c>ws://host:8080/vizhtml/socket</c>).</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    public VizHtmlClient(Uri server, VizHtmlClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        _options = options ?? new VizHtmlClientOptions();
        if (_options.ConnectTimeout <= TimeSpan.Zero && _options.ConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.ConnectTimeout, $"{nameof(VizHtmlClientOptions.ConnectTimeout)} must be positive or Timeout.InfiniteTimeSpan.");
        }

        var json = _options.JsonSerializerOptions ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
        _serializer = new Protocol.EnvelopeSerializer(json, new BinaryJson(json));
        // The key is in the socket's URL: what is logged names the URL without it, and the rest (exception texts) is redacted.
        _logger = Security.RedactingLoggerFactory.For(_options.LoggerFactory ?? NullLoggerFactory.Instance, _options.AccessKey).CreateLogger("VizHtml.Client");
        _messages = new MessageHandlers<VizClientMessageEvent>(_logger);
        var scheme = server.Scheme is "https" or "wss" ? "wss" : "ws";
        var path = server.AbsolutePath.EndsWith("/vizhtml/socket", StringComparison.Ordinal) ? server.AbsolutePath : "/vizhtml/socket";
        var key = _options.AccessKey is { } k ? "&key=" + Uri.EscapeDataString(k) : string.Empty;
        _socketUri = new Uri($"{scheme}://{server.Authority}{path}?v=2{key}");
        _loggedUri = $"{scheme}://{server.Authority}{path}";
    }

    /// <summary>Whether the client is connected and welcomed by the server now.</summary>
    public bool IsConnected => _welcomed;

    /// <summary>Where the connection is now: <see cref="VizClientState.Closed"/> until <see cref="StartAsync"/>, then connecting, connected or reconnecting.</summary>
    public VizClientState State => _state;

    /// <summary>The client id the server gave this session (the server's <see cref="VizClient.Id"/>).</summary>
    public string? Id { get; private set; }

    /// <summary>How many sends were dropped because <see cref="VizHtmlClientOptions.MaxPendingSends"/> or <see cref="VizHtmlClientOptions.MaxPendingAge"/> was exceeded.</summary>
    public long DroppedSends => Interlocked.Read(ref _dropped);

    private long _dropped;

    /// <summary>Calls <paramref name="handler"/> for every event named <paramref name="eventName"/> from the server.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage(string eventName, Action<VizClientMessageEvent> handler) => _messages.On(eventName, Handlers.FromAction(handler));

    /// <summary>Calls an asynchronous <paramref name="handler"/> for every event named <paramref name="eventName"/>; the next event waits for it.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage(string eventName, Func<VizClientMessageEvent, ValueTask> handler) => _messages.On(eventName, handler ?? throw new ArgumentNullException(nameof(handler)));

    /// <summary>Calls <paramref name="handler"/> for every event from the server.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage(Action<VizClientMessageEvent> handler) => _messages.OnAny(Handlers.FromAction(handler));

    /// <summary>Calls an asynchronous <paramref name="handler"/> for every event from the server; the next event waits for it.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnMessage(Func<VizClientMessageEvent, ValueTask> handler) => _messages.OnAny(handler ?? throw new ArgumentNullException(nameof(handler)));

    /// <summary>Calls <paramref name="handler"/> on every connect, resume and lost connection.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnConnectionChanged(Action<VizClientConnectionEvent> handler) => _connectionHandlers.Add(Handlers.FromAction(handler));

    /// <summary>Calls an asynchronous <paramref name="handler"/> on every connect, resume and lost connection.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnConnectionChanged(Func<VizClientConnectionEvent, ValueTask> handler) => _connectionHandlers.Add(handler ?? throw new ArgumentNullException(nameof(handler)));

    /// <summary>Calls <paramref name="handler"/> with the new <see cref="State"/> each time it changes.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnStateChanged(Action<VizClientState> handler) => _stateHandlers.Add(Handlers.FromAction(handler));

    /// <summary>Calls an asynchronous <paramref name="handler"/> with the new <see cref="State"/> each time it changes; the client waits for it.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnStateChanged(Func<VizClientState, ValueTask> handler) => _stateHandlers.Add(handler ?? throw new ArgumentNullException(nameof(handler)));

    /// <summary>
    /// Connects and completes once the server has welcomed the client; after that the client keeps itself connected. Each
    /// failed attempt is logged (warning) with the URL and the reason.
    /// </summary>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> fires before the first welcome.</exception>
    /// <exception cref="VizHtmlConnectTimeoutException">
    /// The server was not reached within <see cref="VizHtmlClientOptions.ConnectTimeout"/>; the client is then closed.
    /// </exception>
    /// <exception cref="InvalidOperationException">The client is closed (disposed, or its connect timeout passed).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_stop.IsCancellationRequested)
        {
            // Its session ended with the close; a fresh client says so plainly instead of waiting for a welcome that never comes.
            throw new InvalidOperationException("This VizHtmlClient is closed (disposed, or its ConnectTimeout passed); create a new one to connect again.");
        }

        var welcomed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = OnConnectionChanged(e =>
        {
            if (e.Connected)
            {
                welcomed.TrySetResult();
            }
        });
        _run ??= Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        try
        {
            await welcomed.Task.WaitAsync(_options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Giving up closes the client: attempts that go on after the caller was told "no" would surprise it.
            await _stop.CancelAsync().ConfigureAwait(false);
            await _run.ConfigureAwait(false);
            throw new VizHtmlConnectTimeoutException(_loggedUri, _options.ConnectTimeout, _lastFailure);
        }
    }

    /// <summary>
    /// Sends an event: numbered, kept until the server acknowledges it, resent after a reconnect, delivered once. While
    /// disconnected it waits (see <see cref="VizHtmlClientOptions.MaxPendingSends"/>). Never blocks.
    /// </summary>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    public void Send(string eventName, object? data = null)
    {
        if (Protocol.Envelope.ValidateEventName(eventName) is { } problem)
        {
            throw new ArgumentException($"Invalid event name '{eventName}': {problem}.", nameof(eventName));
        }

        lock (_gate)
        {
            var seq = ++_lastSent;
            Enqueue(seq, SerializeWithParts(eventName, data, seq));
        }
    }

    /// <summary>Keeps a numbered event until the server acknowledges it, and sends it now if connected (under the lock).</summary>
    private void Enqueue(long seq, byte[] payload)
    {
        _pending.Enqueue((seq, payload, TimeProvider.System.GetTimestamp()));
        while (_pending.Count > _options.MaxPendingSends)
        {
            _pending.Dequeue();
            Interlocked.Increment(ref _dropped);
        }

        if (_welcomed)
        {
            _outbox?.Writer.TryWrite(payload);
        }
    }

    /// <summary>Stops the client: closes the connection (1000), which ends the session on the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            await _run.ConfigureAwait(false);
        }

        FailRequests(_ => true, RequestErrors.SessionLost);
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        try
        {
            await SetStateAsync(VizClientState.Connecting).ConfigureAwait(false);
            await ConnectLoopAsync(stop).ConfigureAwait(false);
        }
        finally
        {
            await SetStateAsync(VizClientState.Closed).ConfigureAwait(false);
        }
    }

    private async Task ConnectLoopAsync(CancellationToken stop)
    {
        var attempt = 0;
        while (!stop.IsCancellationRequested)
        {
            using var socket = new ClientWebSocket();
            _options.ConfigureSocket?.Invoke(socket.Options);
            var connected = false;
            try
            {
                await socket.ConnectAsync(_socketUri, stop).ConfigureAwait(false);
                connected = true;
                attempt = 0;
                await RunConnectionAsync(socket, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                await CloseQuietlyAsync(socket).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or JsonException)
            {
                if (connected)
                {
                    _logger.LogDebug(ex, "Connection to {Uri} was lost", _loggedUri);
                }
                else
                {
                    // The innermost message is the reason a person can act on ("Connection refused"), not "Unable to connect".
                    var reason = ex.GetBaseException().Message;
                    _lastFailure = _options.AccessKey is { } key ? new Security.KeyRedactor(key).Redact(reason) : reason;
                    _logger.LogWarning("Could not connect to {Uri} (attempt {Attempt}): {Reason}", _loggedUri, attempt + 1, reason);
                }
            }

            if (_welcomed)
            {
                _welcomed = false;
                await SetStateAsync(VizClientState.Reconnecting).ConfigureAwait(false);
                await Raise(new VizClientConnectionEvent(connected: false, resumed: false, recovered: false)).ConfigureAwait(false);
            }

            // Exponential backoff with jitter: a restarted server is not hit by every client at once.
            var delay = Math.Min(_options.MaxReconnectDelay.TotalMilliseconds, _options.InitialReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt++, 16)));
#pragma warning disable CA5394 // Jitter, not security.
            delay *= 0.5 + (Random.Shared.NextDouble() * 0.5);
#pragma warning restore CA5394
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(delay), stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunConnectionAsync(ClientWebSocket socket, CancellationToken stop)
    {
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var outbox = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        long lastReceived;
        lock (_gate)
        {
            _outbox = outbox;
            lastReceived = _lastReceived;
        }

        Interlocked.Exchange(ref _lastInbound, TimeProvider.System.GetTimestamp());
        var writing = WriteLoopAsync(socket, outbox.Reader, connection.Token);
        var watching = WatchAsync(socket, connection.Token);
        try
        {
            await SendRawAsync(socket, new JsonObject { ["event"] = "$hello", ["data"] = new JsonObject { ["v"] = 2, ["token"] = _token, ["lastSeq"] = lastReceived, ["batch"] = true, [RequestEnvelope.Capability] = true, ["binary"] = true } }, connection.Token).ConfigureAwait(false);
            await ReceiveLoopAsync(socket, outbox.Writer, connection.Token).ConfigureAwait(false);
        }
        finally
        {
            outbox.Writer.TryComplete();
            await connection.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(writing, watching).ConfigureAwait(false);
            if (stop.IsCancellationRequested)
            {
                await CloseQuietlyAsync(socket).ConfigureAwait(false);
            }
        }
    }

    private async Task ReceiveLoopAsync(ClientWebSocket socket, ChannelWriter<byte[]> outbox, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            buffer.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                buffer.Advance(result.Count);
            }
            while (!result.EndOfMessage);

            Interlocked.Exchange(ref _lastInbound, TimeProvider.System.GetTimestamp());
            if (result.MessageType == WebSocketMessageType.Binary)
            {
                await OnBinaryAsync(buffer.WrittenMemory).ConfigureAwait(false);
            }

            // A frame holds one envelope, or after a batching welcome, an array of them to handle in order.
            var receivedBefore = _lastReceived;
            switch (result.MessageType == WebSocketMessageType.Binary ? null : JsonNode.Parse(buffer.WrittenSpan))
            {
                case JsonObject envelope:
                    await OnEnvelopeAsync(envelope, outbox).ConfigureAwait(false);
                    break;
                case JsonArray batch:
                    foreach (var item in batch)
                    {
                        if (item is JsonObject envelope)
                        {
                            await OnEnvelopeAsync(envelope, outbox).ConfigureAwait(false);
                        }
                    }

                    break;
            }

            if (_lastReceived > receivedBefore)
            {
                // Added here, reset by whichever thread acknowledges (this loop or the watch): atomic both ways.
                Interlocked.Add(ref _unackedBytes, buffer.WrittenCount);
            }

            if (_lastReceived - _lastAcked >= AckEvery || Interlocked.Read(ref _unackedBytes) >= AckBytes || (_welcomed && Environment.TickCount64 - Volatile.Read(ref _ackedAt) > ReadingAckMilliseconds))
            {
                Acknowledge(outbox);
            }
        }
    }

    /// <summary>Handles one envelope; handlers run on the receive loop, each to completion before the next envelope.</summary>
    private ValueTask OnEnvelopeAsync(JsonObject envelope, ChannelWriter<byte[]> outbox)
    {
        if (envelope["event"]?.GetValue<string>() is not { } name)
        {
            return default;
        }

        switch (name)
        {
            case Protocol.Envelope.WelcomeEvent:
                return OnWelcome((JsonObject)envelope["data"]!, outbox);
            case Protocol.Envelope.AckEvent:
                OnAck(envelope["data"]?["seq"]?.GetValue<long>() ?? 0);
                return default;
            case Protocol.Envelope.HeartbeatEvent:
                return default;
        }

        if (envelope["seq"]?.GetValue<long>() is { } seq)
        {
            // A replayed event this client already has: dropped, so each arrives once.
            if (seq <= _lastReceived)
            {
                return default;
            }

            _lastReceived = seq;
        }

        var data = envelope["data"];
        envelope.Remove("data");
        if (name == RequestEnvelope.ReplyEvent)
        {
            OnReply(data);
            return default;
        }

        if (RequestEnvelope.ReadId(envelope["req"]) is { } req && _requestsGranted)
        {
            return AnswerAsync(name, data, req);
        }

        _messages.TryDeliver(name, new VizClientMessageEvent(name, VizData.FromNode(data)), out var delivered);
        return delivered;
    }

    private ValueTask OnWelcome(JsonObject welcome, ChannelWriter<byte[]> outbox)
    {
        var resumed = welcome["resumed"]!.GetValue<bool>();
        var recovered = welcome["recovered"]!.GetValue<bool>();
        var epoch = welcome["epoch"]?.GetValue<string>();

        // Another epoch is another run of the server program: what was meant for the old one is stale input there. A session
        // the same run forgot (expired, or evicted to stay within its limits) is not a restart, and keeps its sends.
        var restarted = !resumed && _epoch is not null && epoch is not null && !string.Equals(epoch, _epoch, StringComparison.Ordinal);
        var dropped = 0;
        lock (_gate)
        {
            _epoch = epoch ?? _epoch;
            if (restarted && !_options.KeepPendingAcrossRestart)
            {
                dropped = _pending.Count;
                _pending.Clear();
            }

            _token = welcome["token"]!.GetValue<string>();
            Id = welcome["id"]!.GetValue<string>();
            _heartbeat = TimeSpan.FromMilliseconds(welcome["heartbeatMs"]!.GetValue<long>());
            if (!recovered)
            {
                // Nothing is replayed: accept what comes next.
                _lastReceived = _lastAcked = welcome["sentSeq"]!.GetValue<long>();
            }

            Interlocked.Exchange(ref _unackedBytes, 0);

            // Everything the server has not processed goes again, in order; it drops duplicates by number.
            var processed = welcome["lastSeq"]!.GetValue<long>();
            DropPending(processed);
            var now = TimeProvider.System.GetTimestamp();
            while (_pending.TryPeek(out var head) && TimeProvider.System.GetElapsedTime(head.Timestamp, now) > _options.MaxPendingAge)
            {
                _pending.Dequeue();
                Interlocked.Increment(ref _dropped);
            }

            foreach (var (_, payload, _) in _pending)
            {
                outbox.TryWrite(payload);
            }

            OnWelcomeForRequests(welcome, recovered);

            _welcomed = true;
        }

        if (dropped > 0)
        {
            _logger.LogWarning("The server restarted: {Count} sends made before it were dropped, not delivered to the new run (KeepPendingAcrossRestart is off)", dropped);
        }

        return RaiseConnectedAsync(new VizClientConnectionEvent(connected: true, resumed, recovered, restarted, dropped));
    }

    private async ValueTask RaiseConnectedAsync(VizClientConnectionEvent e)
    {
        await SetStateAsync(VizClientState.Connected).ConfigureAwait(false);
        await Raise(e).ConfigureAwait(false);
    }

    private ValueTask SetStateAsync(VizClientState state)
    {
        if (_state == state)
        {
            return ValueTask.CompletedTask;
        }

        _state = state;
        return Handlers.InvokeAll(_stateHandlers.Snapshot, state, "state change", _logger);
    }

    private void OnAck(long seq)
    {
        lock (_gate)
        {
            DropPending(seq);
        }
    }

    private void DropPending(long through)
    {
        while (_pending.TryPeek(out var head) && head.Seq <= through)
        {
            _pending.Dequeue();
        }
    }

    private void Acknowledge(ChannelWriter<byte[]> outbox)
    {
        _lastAcked = _lastReceived;
        Interlocked.Exchange(ref _unackedBytes, 0);
        Volatile.Write(ref _ackedAt, Environment.TickCount64);
        outbox.TryWrite(Protocol.Envelope.Ack(_lastAcked));
    }

    /// <summary>Acknowledges stragglers about a second after the last acknowledgement (checked every 250 ms) and drops a connection that has been silent for 2.5 heartbeats.</summary>
    private async Task WatchAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_welcomed && _lastReceived > _lastAcked && Environment.TickCount64 - Volatile.Read(ref _ackedAt) >= AckDelayMilliseconds && _outbox is { } outbox)
                {
                    Acknowledge(outbox.Writer);
                }

                if (TimeProvider.System.GetElapsedTime(Interlocked.Read(ref _lastInbound)) > _heartbeat * 2.5)
                {
                    _logger.LogInformation("No message from the server for {Silence}; reconnecting", _heartbeat * 2.5);
                    socket.Abort();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task WriteLoopAsync(ClientWebSocket socket, ChannelReader<byte[]> outbox, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var payload in outbox.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await socket.SendAsync(payload, MessageTypeOf(payload), endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The receive loop notices the same failure and reconnects.
        }
    }

    private static Task SendRawAsync(ClientWebSocket socket, JsonObject message, CancellationToken cancellationToken) =>
        socket.SendAsync(new ArraySegment<byte>(JsonText.ToUtf8Bytes(message)), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    private static async Task CloseQuietlyAsync(ClientWebSocket socket)
    {
        if (socket.State is not WebSocketState.Open)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "client stopped", timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
        }
    }

    private ValueTask Raise(VizClientConnectionEvent e) => Handlers.InvokeAll(_connectionHandlers.Snapshot, e, "connection change", _logger);
}
