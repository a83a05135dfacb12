using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using VizHtml.Protocol;

namespace VizHtml.Connections;

/// <summary>
/// One browser's WebSocket: a receive half (<c>Connection.Receive.cs</c>) that decodes envelopes for its
/// <see cref="Handler"/>, and a send half (<c>Connection.Send.cs</c>), a single write loop that drains the
/// <see cref="OutboundQueue"/>. When either loop ends, the other gets <see cref="ConnectionOptions.CloseTimeout"/> to
/// finish, then the socket is aborted. Why it ended is one value: the first reason recorded wins.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token sources live exactly as long as RunAsync, which disposes them.")]
internal sealed partial class Connection
{
    /// <summary>RFC 6455 leaves 4000-4999 to applications; 4008 is VizHtml's "slow consumer".</summary>
    public const WebSocketCloseStatus SlowConsumerStatus = (WebSocketCloseStatus)4008;

    private readonly WebSocket _socket;
    private readonly ConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly OutboundQueue _queue;
    private readonly CancellationTokenSource _abort;
    private int _closeReason = -1;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeDescription;
    private volatile IConnectionHandler _handler;

    public Connection(WebSocket socket, string remoteAddress, IConnectionHandler handler, ConnectionOptions options, EnvelopeReader reader, ILogger logger)
    {
        _socket = socket;
        RemoteAddress = remoteAddress;
        _handler = handler;
        _options = options;
        _reader = reader;
        _logger = logger;
        _queue = new OutboundQueue(options.MaxQueuedMessages, options.MaxQueuedBytes);
        _abort = NewTimeoutSource(options.TimeProvider);
        _rate = new RateLimiter(options.MaxMessagesPerSecond, options.TimeProvider);
        _assembly = options.Assembly ?? MessageAssemblyLimits.Unlimited;
        _lastWrite = options.TimeProvider.GetTimestamp();
    }

    /// <summary>The peer's IP address as text.</summary>
    public string RemoteAddress { get; }

    /// <summary>Who receives this connection's envelopes; a version 2 connection moves from its handshake to its session.</summary>
    public IConnectionHandler Handler
    {
        get => _handler;
        set => _handler = value;
    }

    /// <summary>Why the connection ended; meaningful once <see cref="RunAsync"/> has completed.</summary>
    public VizDisconnectReason CloseReason => _closeReason < 0 ? VizDisconnectReason.ConnectionLost : (VizDisconnectReason)_closeReason;

    /// <summary>The close code sent or received, if a close handshake happened.</summary>
    public WebSocketCloseStatus? CloseStatus => _closeStatus;

    public string? CloseDescription => _closeDescription;

    /// <summary>Set when a resumed connection of the same session took this one's place; its end raises no events.</summary>
    public bool Superseded { get; private set; }

    /// <summary>Runs both halves until the connection ends; never throws for network failures.</summary>
    public async Task RunAsync(CancellationToken requestAborted)
    {
        // The host's abort (the transport saw the client go) ends the connection as any abort does: one source for both loops,
        // not a linked one per connection.
        using var hostAborted = requestAborted.UnsafeRegister(static state => ((Connection)state!).CancelAbort(TimeSpan.Zero), this);
        var stop = _abort.Token;
        var writing = WriteLoopAsync(stop);
        try
        {
            await ReadLoopAsync(stop).ConfigureAwait(false);
        }
        finally
        {
            _queue.TryComplete();
            await FinishAsync(writing).ConfigureAwait(false);
            FailPendingDeliveries();

            // A session that is away keeps its last connection object: it must not keep a ring a burst grew.
            _queue.TrimIfEmpty();
            _abort.Dispose();
            _writeTimeout?.Dispose();
        }
    }

    /// <summary>
    /// The one way to end a connection from outside. <see cref="CloseKind.AfterQueued"/> closes after everything already
    /// queued has been written; <see cref="CloseKind.Abort"/> drops the socket at once, without a close handshake (as a
    /// network failure would); <see cref="CloseKind.Superseded"/> does that because the client came back on a new socket.
    /// </summary>
    public void Close(CloseKind kind, VizDisconnectReason reason, WebSocketCloseStatus? status, string? description)
    {
        switch (kind)
        {
            case CloseKind.AfterQueued:
                if (RecordReason(reason, status, description))
                {
                    _queue.TryCompleteWith(OutboundMessage.Close(status ?? WebSocketCloseStatus.NormalClosure, description ?? string.Empty));
                }

                break;
            case CloseKind.Superseded:
                Superseded = true;
                RecordReason(reason, status, description);
                CancelAbort(TimeSpan.Zero);
                break;
            default:
                RecordReason(reason, status, description);
                CancelAbort(TimeSpan.Zero);
                break;
        }
    }

    /// <summary>Drops the socket at once, as a network failure would (tests and the fault proxy use it).</summary>
    public void Abort() => Close(CloseKind.Abort, VizDisconnectReason.ConnectionLost, null, "aborted");

    /// <summary>The queue overflowed with reliable events: drop what is queued, send 4008 if the socket takes it, else abort.</summary>
    private void Overflow()
    {
        if (!RecordReason(VizDisconnectReason.SlowConsumer, SlowConsumerStatus, "slow consumer: send queue full"))
        {
            return;
        }

        _logger.LogWarning("Disconnecting {Client}: its send queue is full ({Messages} messages, {Bytes} bytes)", _handler, _queue.PendingMessages, _queue.PendingBytes);
        _overflowed = true;
        _queue.TryComplete();
        CancelAbort(_options.CloseTimeout);
    }

    /// <summary>
    /// A token source whose <c>CancelAfter</c> runs on <paramref name="time"/>. On the system clock a plain one: a source made
    /// by <c>TimeProvider.CreateCancellationTokenSource</c> holds a timer from the start, and every connection has one.
    /// </summary>
    private static CancellationTokenSource NewTimeoutSource(TimeProvider time) =>
        time == TimeProvider.System ? new CancellationTokenSource() : time.CreateCancellationTokenSource(Timeout.InfiniteTimeSpan);

    private void CancelAbort(TimeSpan after)
    {
        try
        {
            if (after == TimeSpan.Zero)
            {
                _abort.Cancel();
            }
            else
            {
                _abort.CancelAfter(after);
            }
        }
        catch (ObjectDisposedException)
        {
            // The connection ended meanwhile.
        }
    }

    private async Task FinishAsync(Task writing)
    {
        // The read loop is over; give the write loop (and the close handshake) a bounded time, then abort.
        using var timeout = _options.TimeProvider.CreateCancellationTokenSource(_options.CloseTimeout);
        var orderly = false;
        try
        {
            await writing.WaitAsync(timeout.Token).ConfigureAwait(false);
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(_closeStatus ?? WebSocketCloseStatus.NormalClosure, _closeDescription ?? string.Empty, timeout.Token).ConfigureAwait(false);
            }

            orderly = _socket.State is WebSocketState.Closed or WebSocketState.CloseSent;
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The peer is gone or too slow to take the close frame; aborting below is the answer.
        }
        finally
        {
            await _abort.CancelAsync().ConfigureAwait(false);

            // After a close frame went out, ending the request closes TCP in order (FIN); an abort would reset it and could
            // destroy the close frame before the peer read it. Anything else is aborted.
            if (!orderly)
            {
                _socket.Abort();
            }
        }
    }

    private async Task CloseOutputAsync(WebSocketCloseStatus status, string? description)
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        using var timeout = _options.TimeProvider.CreateCancellationTokenSource(_options.CloseTimeout);
        try
        {
            await _socket.CloseOutputAsync(status, description, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            _socket.Abort();
        }
    }

    private bool RecordReason(VizDisconnectReason reason, WebSocketCloseStatus? status, string? description)
    {
        if (Interlocked.CompareExchange(ref _closeReason, (int)reason, -1) != -1)
        {
            return false;
        }

        _closeStatus = status;
        _closeDescription = description;
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => _handler.ToString() ?? RemoteAddress;
}

/// <summary>How <see cref="Connection.Close"/> ends a connection.</summary>
internal enum CloseKind
{
    /// <summary>A close handshake after everything already queued.</summary>
    AfterQueued,

    /// <summary>Drop the socket at once.</summary>
    Abort,

    /// <summary>Drop the socket at once; a resumed connection of the same client replaced it, so its end raises no events.</summary>
    Superseded,
}
