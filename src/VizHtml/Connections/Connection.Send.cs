using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using VizHtml.Protocol;

namespace VizHtml.Connections;

/// <summary>The send half: sending into the outbound queue, and the single write loop that drains it.</summary>
internal sealed partial class Connection
{
    private const int DrainBudget = 4096;

    /// <summary>The largest single write: a larger message is sent in fragments of this size.</summary>
    internal const int WriteChunkBytes = 64 * 1024;

    // Made with the first write that does not complete at once (most connections never have one).
    private CancellationTokenSource? _writeTimeout;
    private volatile bool _overflowed;
    private int _writing;
    private bool _batching;
    private long _lastWrite;
    private long _bytesWritten;

    /// <summary>Whether this connection now writes several envelopes per frame (its client announced batching and was welcomed).</summary>
    public bool Batching => Volatile.Read(ref _batching);

    /// <summary>When the write loop last finished a write (a <see cref="TimeProvider"/> timestamp).</summary>
    public long LastWriteTimestamp => Interlocked.Read(ref _lastWrite);

    /// <summary>Bytes of the messages this connection has handed to its socket (the write loop adds, anyone reads).</summary>
    public long BytesWritten => Volatile.Read(ref _bytesWritten);

    /// <summary>Adds a message handed to the socket to <see cref="BytesWritten"/>; only the write loop calls it.</summary>
    private void CountWritten(long bytes) => Volatile.Write(ref _bytesWritten, _bytesWritten + bytes);

    /// <summary>Messages waiting to be written.</summary>
    public int QueuedMessages => _queue.PendingMessages;

    /// <summary>Bytes waiting to be written.</summary>
    public long QueuedBytes => _queue.PendingBytes;

    /// <summary>
    /// Queues a message without waiting. Returns <see langword="false"/> when it will not be sent: the connection is
    /// closing, or the queue is full (a volatile message is dropped; a reliable one disconnects the client as slow, 4008).
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="wake">How to wake the writer if it is waiting (the caller's choice, see <see cref="Wake"/>).</param>
    /// <param name="withinBounds">False for a resume's replay, which the replay buffer has bounded already.</param>
    public bool Send(in OutboundMessage message, Wake wake, bool withinBounds = true) =>
        Accept(message, _queue.TryEnqueue(InPeerForm(message), wake, withinBounds));

    /// <summary>
    /// As <see cref="Send"/>, for a caller that holds a lock the writer must not run inside of: when
    /// <paramref name="wakeClaimed"/> comes back true, call <see cref="WakeClaimed"/> once the lock is released.
    /// </summary>
    public bool SendClaimingWake(in OutboundMessage message, out bool wakeClaimed) =>
        Accept(message, _queue.TryEnqueueClaimingWake(InPeerForm(message), out wakeClaimed));

    /// <summary>Wakes the writer after <see cref="SendClaimingWake"/> claimed it.</summary>
    public void WakeClaimed(Wake wake) => _queue.WakeClaimed(wake);

    private bool Accept(in OutboundMessage message, Enqueued result)
    {
        switch (result)
        {
            case Enqueued.Queued:
                return true;
            case Enqueued.Replaced:
                _options.Metrics?.EventCoalesced();
                return true;
            case Enqueued.Dropped:
                _options.Metrics?.EventDropped(message.Delivery);
                message.Delivered?.TrySetResult(false);
                return false;
            case Enqueued.Overflowed:
                _options.Metrics?.EventDropped(message.Delivery);
                message.Delivered?.TrySetResult(false);
                Overflow();
                return false;
            default:
                message.Delivered?.TrySetResult(false);
                return false;
        }
    }

    /// <summary>Sends an <c>$error</c> envelope to this peer (a malformed message, a rate limit).</summary>
    public void SendError(string code, string message) =>
        Send(OutboundMessage.Control(EnvelopeSerializer.SerializeError(code, message)), Wake.Inline);

    /// <summary>Gives back the send queue's ring if a burst grew it and it is empty now (the once-a-second maintenance).</summary>
    public void TrimIdleBuffers() => _queue.TrimIfEmpty();

    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        var queue = _queue;

        // Writes are made with no token (see WriteAsync); a connection ended from outside drops a write still in flight.
        using var stopped = cancellationToken.UnsafeRegister(static state => ((Connection)state!).AbortWriteInFlight(), this);
        var batch = new OutboundBatch();
        try
        {
            while (await queue.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Drains everything queued: with batching on, it leaves in as few frames (and writes) as there are full batches.
                // A writer woken by a broadcast's work item shares that thread with the other writers, and one woken inline
                // runs on its sender's thread, so after a budget it flushes and moves to a thread-pool thread of its own.
                var budget = DrainBudget;
                while (queue.TryDequeue(out var message, out var payload, out var delivered))
                {
                    if (--budget == 0)
                    {
                        await FlushAsync(batch, cancellationToken).ConfigureAwait(false);

                        // Not Task.Yield: that would post to a SynchronizationContext the sender's thread may have (a UI
                        // thread, the manual dispatcher's loop), and this writer must never wait for the host's loop.
                        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
                        budget = DrainBudget;
                    }

                    if (_overflowed)
                    {
                        // The client fell too far behind: what is queued is dropped and it is told why.
                        batch.Abandon();
                        await CloseOutputAsync(SlowConsumerStatus, _closeDescription).ConfigureAwait(false);
                        return;
                    }

                    if (message.CloseStatus is { } status)
                    {
                        await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
                        await CloseOutputAsync(status, message.CloseDescription).ConfigureAwait(false);

                        // The read loop now waits for the peer's close; a peer that never answers is cut off.
                        CancelAbort(_options.CloseTimeout);
                        return;
                    }

                    if (Protocol.BinaryPayload.TryGet(payload, out var binary))
                    {
                        // A binary message is never part of a batch: what is batched so far goes first, then it alone.
                        await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
                        await WriteBinaryAsync(message.Seq, binary, delivered, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    if (_batching && !message.StartsBatching)
                    {
                        if (!batch.TryAdd(message.Seq, payload, delivered))
                        {
                            await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
                            batch.TryAdd(message.Seq, payload, delivered);
                        }

                        continue;
                    }

                    // Unbatched: one message, one frame (and the welcome that turns batching on always goes alone).
                    await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
                    batch.TryAdd(message.Seq, payload, delivered);
                    await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
                    _batching |= message.StartsBatching;
                }

                await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
            }

            if (_overflowed)
            {
                batch.Abandon();
                await CloseOutputAsync(SlowConsumerStatus, _closeDescription).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException && _writeTimeout is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("Disconnecting {Client}: one write took longer than {Timeout}", _handler, _options.SendTimeout);
            await _abort.CancelAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
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

    /// <summary>
    /// Writes what <paramref name="batch"/> holds as one message, then marks its messages delivered. A message larger than
    /// <see cref="WriteChunkBytes"/> goes in fragments of that size, each its own write: the send timeout measures a lack
    /// of progress, so a slow reader taking a large message in pieces is not mistaken for a stalled one.
    /// </summary>
#if NET
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
#endif
    private async ValueTask FlushAsync(OutboundBatch batch, CancellationToken stop)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var frame = batch.Frame;
        CountWritten(frame.Length);
        var first = true;
        do
        {
            var chunk = frame.Length > WriteChunkBytes ? frame[..WriteChunkBytes] : frame;
            frame = frame[chunk.Length..];
            var sending = WriteAsync(chunk, WebSocketMessageType.Text, endOfMessage: frame.IsEmpty, stop);
            if (first)
            {
                // Handed to the socket: no longer waiting in this queue. Counted off now, not when the write completes,
                // which under a full socket buffer can be after the client already has the frame: a client that reads as
                // fast as it can must not look a frame further behind than it is (the queue bounds would then close it
                // with 4008 one frame early).
                _queue.MarkHandedOff(batch.Count, batch.PayloadBytes);
                first = false;
            }

            await sending.ConfigureAwait(false);
        }
        while (!frame.IsEmpty);

        batch.Complete();
    }

    /// <summary>
    /// One write into the socket. Made with no cancellation token: the runtime's WebSocket takes its synchronous path only
    /// for a send that cannot be canceled (with a token, every send is an async state machine and a registration), and
    /// most writes complete at once, into the transport's buffer. The send timeout is armed only for a write that does
    /// not: a peer that stops reading fills the TCP buffers and the write stalls; with no progress for
    /// <see cref="ConnectionOptions.SendTimeout"/> it is cut off. A stalled write is ended by aborting the socket
    /// (<see cref="WriteTimedOut"/>, <see cref="AbortWriteInFlight"/>), as the runtime does when a send's token fires.
    /// </summary>
    private ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, WebSocketMessageType type, bool endOfMessage, CancellationToken stop)
    {
        // A full fence: either the stopping side sees the write in flight and aborts it, or this sees the stop.
        Interlocked.Exchange(ref _writing, 1);
        if (stop.IsCancellationRequested)
        {
            Volatile.Write(ref _writing, 0);
            return ValueTask.FromCanceled(stop);
        }

        // The send timeout fired just as the last stalled write completed: the connection is ending as a slow consumer.
        if (_writeTimeout is { IsCancellationRequested: true } timedOut)
        {
            Volatile.Write(ref _writing, 0);
            return ValueTask.FromCanceled(timedOut.Token);
        }

        var sending = _socket.SendAsync(chunk, type, endOfMessage, CancellationToken.None);
        if (!sending.IsCompleted)
        {
            return AwaitStalledWriteAsync(sending);
        }

        Volatile.Write(ref _writing, 0);
        if (sending.IsCompletedSuccessfully)
        {
            Interlocked.Exchange(ref _lastWrite, _options.TimeProvider.GetTimestamp());
        }

        return sending;
    }

#if NET
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
#endif
    private async ValueTask AwaitStalledWriteAsync(ValueTask sending)
    {
        if (_writeTimeout is null)
        {
            _writeTimeout = NewTimeoutSource(_options.TimeProvider);

            // Recorded the moment the timer fires, before the stalled write is aborted, so it cannot be reported as a lost
            // connection first. Released with the source, when the connection ends.
            _writeTimeout.Token.UnsafeRegister(static state => ((Connection)state!).WriteTimedOut(), this);
        }

        _writeTimeout.CancelAfter(_options.SendTimeout);
        try
        {
            await sending.ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }

        _writeTimeout.CancelAfter(Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _lastWrite, _options.TimeProvider.GetTimestamp());
    }

    /// <summary>The send timeout fired: the reason is recorded before anything else can be, then the stalled write is dropped.</summary>
    private void WriteTimedOut()
    {
        RecordReason(VizDisconnectReason.SlowConsumer, null, "send timed out");
        AbortWriteInFlight();
    }

    private void AbortWriteInFlight()
    {
        if (Volatile.Read(ref _writing) != 0)
        {
            _socket.Abort();
        }
    }

    private void FailPendingDeliveries()
    {
        while (_queue.TryDequeue(out _, out _, out var delivered))
        {
            delivered?.TrySetResult(false);
        }
    }
}
