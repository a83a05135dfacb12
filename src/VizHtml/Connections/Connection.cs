using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using VizHtml.Protocol;

namespace VizHtml.Connections;

/// <summary>
/// One browser's WebSocket: a read loop that decodes envelopes and a single write loop that drains the
/// send queue. When either loop ends, the other gets <see cref="ConnectionOptions.CloseTimeout"/> to finish,
/// then the socket is aborted.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source lives exactly as long as RunAsync, which disposes it.")]
internal sealed class Connection
{
    private const int InitialReceiveBufferBytes = 4096;

    private readonly WebSocket _socket;
    private readonly ConnectionOptions _options;
    private readonly EnvelopeReader _reader;
    private readonly ILogger _logger;
    private readonly SendQueue _queue = new();
    private readonly CancellationTokenSource _abort;
    private readonly CancellationTokenSource _writeTimeout;
    private readonly RateLimiter _rate;
    private bool _batching;
    private long _lastWrite;
    private readonly Lock _latestGate = new();
    private Dictionary<string, LatestSlot>? _latest;
    private int _queuedCount;
    private long _queuedBytes;
    private volatile bool _overflowed;
    private int _closeReason = -1;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeDescription;

    public Connection(WebSocket socket, ConnectionOptions options, EnvelopeReader reader, ILogger logger)
    {
        _socket = socket;
        _options = options;
        _reader = reader;
        _logger = logger;
        _abort = new CancellationTokenSource(Timeout.InfiniteTimeSpan, options.TimeProvider);
        _writeTimeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, options.TimeProvider);
        _rate = new RateLimiter(options.MaxMessagesPerSecond, options.TimeProvider);
        _lastWrite = options.TimeProvider.GetTimestamp();
    }

    /// <summary>The public client object this connection belongs to; set once, right after construction.</summary>
    public VizClient? Owner { get; set; }

    /// <summary>Why the connection ended; meaningful once <see cref="RunAsync"/> has completed.</summary>
    public VizDisconnectReason CloseReason => _closeReason < 0 ? VizDisconnectReason.ConnectionLost : (VizDisconnectReason)_closeReason;

    /// <summary>The close code sent or received, if a close handshake happened.</summary>
    public WebSocketCloseStatus? CloseStatus => _closeStatus;

    public string? CloseDescription => _closeDescription;

    /// <summary>Whether this connection now writes several envelopes per frame (its client announced batching and was welcomed).</summary>
    public bool Batching => Volatile.Read(ref _batching);

    /// <summary>Gives back the send queue's ring if a burst grew it and it is empty now (the once-a-second maintenance).</summary>
    public void TrimIdleBuffers() => _queue.TrimIfEmpty();

    /// <summary>Messages waiting to be written.</summary>
    public int QueuedMessages => Volatile.Read(ref _queuedCount);

    /// <summary>Bytes waiting to be written.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>
    /// Queues a frame without waiting. Returns <see langword="false"/> when it will not be sent: the connection is
    /// closing, or the queue is full (a volatile frame is dropped; a reliable one disconnects the client as slow).
    /// </summary>
    /// <remarks>
    /// The queue itself is unbounded; the bounds (count and bytes) are enforced here so that a broadcast never waits on
    /// this client and the delivery class decides what happens at the bound.
    /// </remarks>
    public bool TryEnqueue(in OutboundFrame frame) => TryEnqueue(frame, withinBounds: true);

    /// <summary>Queues a frame; <paramref name="withinBounds"/> false is for a resume's replay, which the replay buffer has already bounded.</summary>
    public bool TryEnqueue(in OutboundFrame frame, bool withinBounds)
    {
        if (frame.LatestKey is { } key)
        {
            return EnqueueLatest(frame, key);
        }

        var bytes = frame.Payload.Length;
        var count = Interlocked.Increment(ref _queuedCount);
        var total = Interlocked.Add(ref _queuedBytes, bytes);

        // One message alone always fits, so a single large image can be sent to an idle client.
        if (withinBounds && count > 1 && (count > _options.MaxQueuedMessages || total > _options.MaxQueuedBytes))
        {
            Unaccount(bytes);
            frame.Delivered?.TrySetResult(false);
            if (frame.Delivery == VizDelivery.Reliable)
            {
                Overflow();
            }

            return false;
        }

        if (_queue.TryWrite(frame))
        {
            return true;
        }

        Unaccount(bytes);
        frame.Delivered?.TrySetResult(false);
        return false;
    }

    private bool EnqueueLatest(in OutboundFrame frame, string key)
    {
        lock (_latestGate)
        {
            _latest ??= new Dictionary<string, LatestSlot>(StringComparer.Ordinal);
            if (_latest.TryGetValue(key, out var slot) && slot.Pending)
            {
                // A value of this event is still waiting: the newer one takes its place in the queue.
                Interlocked.Add(ref _queuedBytes, frame.Payload.Length - slot.Payload.Length);
                slot.Delivered?.TrySetResult(false);
                slot.Payload = frame.Payload;
                slot.Delivered = frame.Delivered;
                return true;
            }

            slot ??= _latest[key] = new LatestSlot();
            if (!_queue.TryWrite(frame))
            {
                frame.Delivered?.TrySetResult(false);
                return false;
            }

            slot.Pending = true;
            slot.Payload = frame.Payload;
            slot.Delivered = frame.Delivered;
            Interlocked.Increment(ref _queuedCount);
            Interlocked.Add(ref _queuedBytes, frame.Payload.Length);
            return true;
        }
    }

    /// <summary>Takes the newest pending value of a latest-class event for writing.</summary>
    private (ReadOnlyMemory<byte> Payload, TaskCompletionSource<bool>? Delivered) TakeLatest(string key)
    {
        lock (_latestGate)
        {
            var slot = _latest![key];
            slot.Pending = false;
            var taken = (slot.Payload, slot.Delivered);
            slot.Payload = ReadOnlyMemory<byte>.Empty;
            slot.Delivered = null;
            return taken;
        }
    }

    private void Unaccount(int bytes)
    {
        Interlocked.Decrement(ref _queuedCount);
        Interlocked.Add(ref _queuedBytes, -bytes);
    }

    /// <summary>The queue overflowed with reliable events: drop what is queued, send 4008 if the socket takes it, else abort.</summary>
    private void Overflow()
    {
        if (!RecordReason(VizDisconnectReason.SlowConsumer, SlowConsumerStatus, "slow consumer: send queue full"))
        {
            return;
        }

        _logger.LogWarning("Disconnecting {Client}: its send queue is full ({Messages} messages, {Bytes} bytes)", Owner, QueuedMessages, QueuedBytes);
        _overflowed = true;
        _queue.TryComplete();
        try
        {
            _abort.CancelAfter(_options.CloseTimeout);
        }
        catch (ObjectDisposedException)
        {
            // The connection ended meanwhile.
        }
    }

    /// <summary>RFC 6455 leaves 4000-4999 to applications; 4008 is VizHtml's "slow consumer".</summary>
    public const WebSocketCloseStatus SlowConsumerStatus = (WebSocketCloseStatus)4008;

    private sealed class LatestSlot
    {
        public bool Pending;
        public ReadOnlyMemory<byte> Payload;
        public TaskCompletionSource<bool>? Delivered;
    }

    /// <summary>The peer's address, kept for a version 2 connection until its $hello creates or resumes its client.</summary>
    public string? RemoteAddress { get; set; }

    /// <summary>Closes with 1008 if no client owns this connection after <paramref name="timeout"/> (a $hello that never came).</summary>
    public void RequestCloseUnlessOwnedAfter(TimeSpan timeout, string reason)
    {
        _options.TimeProvider.CreateTimer(
            static state =>
            {
                var (connection, reason) = ((Connection, string))state!;
                if (connection.Owner is null)
                {
                    connection.RequestClose(VizDisconnectReason.ProtocolViolation, WebSocketCloseStatus.PolicyViolation, reason);
                }
            },
            (this, reason),
            timeout,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>When the write loop last finished a write (a <see cref="TimeProvider"/> timestamp).</summary>
    public long LastWriteTimestamp => Interlocked.Read(ref _lastWrite);

    /// <summary>Set when a resumed connection of the same session took this one's place; its end raises no events.</summary>
    public bool Superseded { get; private set; }

    /// <summary>Drops the socket at once, without a close handshake (as a network failure would).</summary>
    public void Abort()
    {
        RecordReason(VizDisconnectReason.ConnectionLost, null, "aborted");
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already over.
        }
    }

    /// <summary>Drops the socket at once because the client came back on a new one.</summary>
    public void Supersede()
    {
        Superseded = true;
        RecordReason(VizDisconnectReason.ConnectionLost, null, "replaced by a resumed connection");
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already over.
        }
    }

    /// <summary>Closes after everything already queued has been written.</summary>
    public void RequestClose(VizDisconnectReason reason, WebSocketCloseStatus status, string description)
    {
        if (RecordReason(reason, status, description) && _queue.TryWrite(OutboundFrame.Close(status, description)))
        {
            _queue.TryComplete();
        }
    }

    /// <summary>Runs both loops until the connection ends; never throws for network failures.</summary>
    public async Task RunAsync(Action<Connection, InboundEnvelope> onEnvelope, CancellationToken requestAborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, _abort.Token);
        var writing = WriteLoopAsync(linked.Token);
        try
        {
            await ReadLoopAsync(onEnvelope, linked.Token).ConfigureAwait(false);
        }
        finally
        {
            _queue.TryComplete();
            await FinishAsync(writing).ConfigureAwait(false);
            FailPendingDeliveries();
            _abort.Dispose();
            _writeTimeout.Dispose();
        }
    }

    private async Task ReadLoopAsync(Action<Connection, InboundEnvelope> onEnvelope, CancellationToken cancellationToken)
    {
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                // Zero-byte read first so idle sockets hold no buffer.
                var peek = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    OnPeerClosed();
                    return;
                }

                // An empty message is complete after the zero-byte read itself.
                var result = peek;
                var length = 0;
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close)
                {
                    buffer ??= ArrayPool<byte>.Shared.Rent(InitialReceiveBufferBytes);
                    if (length == buffer.Length)
                    {
                        // Grows up to one byte past the limit, so a message of exactly the limit is told from a larger one.
                        buffer = Grow(buffer, length);
                    }

                    var window = buffer.AsMemory(length, Math.Min(buffer.Length, _options.MaxMessageBytes + 1) - length);
                    result = await _socket.ReceiveAsync(window, cancellationToken).ConfigureAwait(false);
                    length += result.Count;
                    if (length > _options.MaxMessageBytes)
                    {
                        await ViolateAsync(WebSocketCloseStatus.MessageTooBig, $"message larger than {_options.MaxMessageBytes} bytes").ConfigureAwait(false);
                        return;
                    }
                }

                switch (result.MessageType)
                {
                    case WebSocketMessageType.Close:
                        OnPeerClosed();
                        return;
                    case WebSocketMessageType.Binary:
                        await ViolateAsync(WebSocketCloseStatus.InvalidMessageType, "binary frames are not supported; send text envelopes").ConfigureAwait(false);
                        return;
                }

                if (Owner?.Session is not null)
                {
                    var wait = _rate.Reserve();
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                    }
                }
                else switch (_rate.Take())
                {
                    case RateLimiter.Verdict.Abuse:
                        await ViolateAsync(WebSocketCloseStatus.PolicyViolation, "message rate limit exceeded").ConfigureAwait(false);
                        return;
                    case RateLimiter.Verdict.DropAndWarn:
                        _logger.LogWarning("Dropping messages from {Client}: more than {Rate} a second", Owner, _options.MaxMessagesPerSecond);
                        TryEnqueue(OutboundFrame.Message(EnvelopeSerializer.SerializeError(ProtocolErrors.RateLimited, $"more than {_options.MaxMessagesPerSecond} messages a second; some were dropped")));
                        continue;
                    case RateLimiter.Verdict.Drop:
                        continue;
                }

                var envelope = _reader.Read(buffer is null ? ReadOnlyMemory<byte>.Empty : buffer.AsMemory(0, length));
                if (envelope.IsValid)
                {
                    onEnvelope(this, envelope);
                }
                else
                {
                    // Malformed input costs the sender one error event; the connection and everyone else carry on.
                    _logger.LogDebug("Rejected a message: {Code} {Reason}", envelope.ErrorCode, envelope.ErrorMessage);
                    TryEnqueue(OutboundFrame.Message(EnvelopeSerializer.SerializeError(envelope.ErrorCode!, envelope.ErrorMessage!)));
                }

                // The buffer goes back to the pool after every message (the envelope no longer needs it): a quiet client holds
                // none. Kept, even the first 4 KB cost every idle connection 4 KB.
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
            RecordReason(VizDisconnectReason.ConnectionLost, null, null);
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.Faulted && ex.InnerException is null)
        {
            // The framework refused a frame itself (invalid UTF-8 gets 1007, a malformed frame 1002), sent its close
            // and aborted; it does not say which code it sent.
            _logger.LogInformation("Closed a connection whose frames the WebSocket layer rejected (invalid UTF-8 or a malformed frame)");
            RecordReason(VizDisconnectReason.ProtocolViolation, null, "invalid frame (invalid UTF-8 or malformed)");

            // Its close frame is on its way; ending the request now would reset TCP and could destroy it. Wait for the peer
            // to hang up (bounded by the close timeout).
            try
            {
                await Task.Delay(_options.CloseTimeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            _logger.LogDebug(ex, "Connection lost while reading");
            RecordReason(VizDisconnectReason.ConnectionLost, null, null);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private const int DrainBudget = 4096;

    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        var reader = _queue;
        using var sendToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _writeTimeout.Token);

        // Recorded the moment the timer fires, before the cancellation reaches the send: callbacks run newest first, so this
        // one, registered after the linked source's, runs before it, and the abort the timeout causes cannot be reported
        // as a lost connection first.
        using var timedOut = _writeTimeout.Token.Register(static state => ((Connection)state!).RecordReason(VizDisconnectReason.SlowConsumer, null, "send timed out"), this);
        var batch = new OutboundBatch();
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Drains everything queued: with batching on, it leaves in as few frames (and writes) as there are full batches.
                // A writer woken inline by a broadcast's work item shares that thread with the other writers, so after a
                // budget it flushes and moves to a thread-pool thread of its own.
                var budget = DrainBudget;
                while (reader.TryRead(out var frame))
                {
                    if (--budget == 0)
                    {
                        await FlushAsync(batch, sendToken.Token).ConfigureAwait(false);
                        await Task.Yield();
                        budget = DrainBudget;
                    }

                    if (_overflowed)
                    {
                        // The client fell too far behind: what is queued is dropped and it is told why.
                        batch.Abandon();
                        await CloseOutputAsync(SlowConsumerStatus, _closeDescription).ConfigureAwait(false);
                        return;
                    }

                    if (frame.CloseStatus is { } status)
                    {
                        await FlushAsync(batch, sendToken.Token).ConfigureAwait(false);
                        await CloseOutputAsync(status, frame.CloseDescription).ConfigureAwait(false);

                        // The read loop now waits for the peer's close; a peer that never answers is cut off.
                        _abort.CancelAfter(_options.CloseTimeout);
                        return;
                    }

                    var (payload, delivered) = frame.LatestKey is { } key ? TakeLatest(key) : (frame.Payload, frame.Delivered);
                    if (_batching && !frame.StartsBatching)
                    {
                        if (!batch.TryAdd(frame.Seq, payload, delivered))
                        {
                            await FlushAsync(batch, sendToken.Token).ConfigureAwait(false);
                            batch.TryAdd(frame.Seq, payload, delivered);
                        }

                        continue;
                    }

                    // Unbatched: one message, one frame (and the welcome that turns batching on always goes alone).
                    await FlushAsync(batch, sendToken.Token).ConfigureAwait(false);
                    batch.TryAdd(frame.Seq, payload, delivered);
                    await FlushAsync(batch, sendToken.Token).ConfigureAwait(false);
                    _batching |= frame.StartsBatching;
                }

                await FlushAsync(batch, sendToken.Token).ConfigureAwait(false);
            }

            if (_overflowed)
            {
                batch.Abandon();
                await CloseOutputAsync(SlowConsumerStatus, _closeDescription).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_writeTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("Disconnecting {Client}: one write took longer than {Timeout}", Owner, _options.SendTimeout);
            await _abort.CancelAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            _logger.LogDebug(ex, "Connection lost while writing");
            RecordReason(VizDisconnectReason.ConnectionLost, null, null);
            await _abort.CancelAsync().ConfigureAwait(false);
        }
        finally
        {
            batch.Abandon();
        }
    }

    /// <summary>Acknowledges the client's events up to <paramref name="seq"/> with an <c>$ack</c> envelope.</summary>
    public void Acknowledge(long seq) => TryEnqueue(OutboundFrame.Message(Envelope.Ack(seq)), withinBounds: false);

    /// <summary>Writes what <paramref name="batch"/> holds as one frame, then marks its messages delivered.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync(OutboundBatch batch, CancellationToken sendToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        // A peer that stops reading fills the TCP buffers and this write stalls; past SendTimeout it is cut off.
        _writeTimeout.CancelAfter(_options.SendTimeout);
        var sending = _socket.SendAsync(batch.Frame, WebSocketMessageType.Text, endOfMessage: true, sendToken);

        // Handed to the socket: no longer waiting in this queue. Counted off now, not when the write completes, which under
        // a full socket buffer can be after the client already has the frame: a client that reads as fast as it can must
        // not look a frame further behind than it is (the queue bounds would then close it with 4008 one frame early).
        Interlocked.Add(ref _queuedCount, -batch.Count);
        Interlocked.Add(ref _queuedBytes, -batch.PayloadBytes);
        await sending.ConfigureAwait(false);
        _writeTimeout.CancelAfter(Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _lastWrite, _options.TimeProvider.GetTimestamp());
        batch.Complete();
    }

    private void OnPeerClosed()
    {
        RecordReason(VizDisconnectReason.ClientClosed, _socket.CloseStatus, _socket.CloseStatusDescription);
    }

    private async Task ViolateAsync(WebSocketCloseStatus status, string description)
    {
        _logger.LogInformation("Closing a connection that broke the protocol: {Status} {Description}", (int)status, description);
        RecordReason(VizDisconnectReason.ProtocolViolation, status, description);

        // Whatever was queued is dropped: the peer broke the protocol, so the close goes out now.
        await CloseOutputAsync(status, description).ConfigureAwait(false);
        await AwaitPeerCloseAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// After sending a close, reads and discards until the peer's close arrives (bounded by the close timeout): aborting at
    /// once would reset the TCP connection and could destroy the close frame before the peer has read it.
    /// </summary>
    private async Task AwaitPeerCloseAsync()
    {
        using var timeout = new CancellationTokenSource(_options.CloseTimeout, _options.TimeProvider);
        var scratch = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            while (_socket.State == WebSocketState.CloseSent)
            {
                var result = await _socket.ReceiveAsync(scratch.AsMemory(), timeout.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The peer did not answer in time or went away; the caller aborts.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private async Task FinishAsync(Task writing)
    {
        // The read loop is over; give the write loop (and the close handshake) a bounded time, then abort.
        using var timeout = new CancellationTokenSource(_options.CloseTimeout, _options.TimeProvider);
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

        using var timeout = new CancellationTokenSource(_options.CloseTimeout, _options.TimeProvider);
        try
        {
            await _socket.CloseOutputAsync(status, description, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            _socket.Abort();
        }
    }

    private void FailPendingDeliveries()
    {
        while (_queue.TryRead(out var frame))
        {
            var delivered = frame.LatestKey is { } key ? TakeLatest(key).Delivered : frame.Delivered;
            delivered?.TrySetResult(false);
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

    private byte[] Grow(byte[] buffer, int length)
    {
        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)length * 2, _options.MaxMessageBytes + 1L));
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }
}
