using System.Threading.Tasks.Sources;

namespace VizHtml.Connections;

/// <summary>What became of a message offered to an <see cref="OutboundQueue"/>.</summary>
internal enum Enqueued
{
    /// <summary>Queued.</summary>
    Queued,

    /// <summary>A latest-class event put in place of an older value of its event still pending (conflated).</summary>
    Replaced,

    /// <summary>Not queued: a volatile event met the queue's bound.</summary>
    Dropped,

    /// <summary>Not queued: a reliable event met the queue's bound; the client is too slow to keep.</summary>
    Overflowed,

    /// <summary>Not queued: the queue is completed (the connection is closing).</summary>
    Closed,
}

/// <summary>How a send that finds the writer waiting wakes it; always chosen by the caller, never by ambient state.</summary>
internal readonly struct Wake
{
    private readonly WakeList? _list;
    private readonly bool _deferred;

    private Wake(WakeList? list, bool deferred)
    {
        _list = list;
        _deferred = deferred;
    }

    /// <summary>The writer runs on the calling thread until it waits again (it writes into the transport, it never calls user code).</summary>
    public static Wake Inline => default;

    /// <summary>The writer is left waiting; the caller wakes it with <see cref="OutboundQueue.WakeIfPending"/> when it is done.</summary>
    public static Wake Deferred => new(null, deferred: true);

    /// <summary>The writer joins <paramref name="list"/>, which wakes every writer it holds together afterwards.</summary>
    public static Wake Into(WakeList list) => new(list, deferred: false);

    internal void Apply(OutboundQueue queue)
    {
        if (_list is not null)
        {
            _list.Add(queue);
        }
        else
        {
            queue.RunWriterHere();
        }
    }

    internal bool LeavesWriterWaiting => _deferred;
}

/// <summary>
/// One connection's outbound queue: many senders (any thread), one reader (the connection's write loop). It owns the
/// queue's bounds (count and bytes; the delivery class decides what happens at the bound) and latest-value conflation
/// (a newer value of a pending latest-class event takes the older one's place). A ring under a lock of its own, so a
/// broadcast never contends with another client's queue; it holds no array until something is queued and gives a large
/// one back once it has stayed empty. Waiting allocates nothing: the reader awaits this object as a reusable
/// <see cref="IValueTaskSource{TResult}"/>.
/// </summary>
internal sealed class OutboundQueue(int maxMessages, long maxBytes) : IValueTaskSource<bool>
{
    private const int MinCapacity = 4;

    // Empty rings at most this large stay; a larger one, grown by a burst, is given back by TrimIfEmpty.
    private const int RetainedCapacity = 16;

    private readonly Lock _gate = new();
    private OutboundMessage[] _ring = [];
    private int _head;
    private int _count;
    private int _pendingMessages;
    private long _pendingBytes;
    private Dictionary<string, LatestSlot>? _latest;
    private bool _completed;
    private bool _waiting;
    private CancellationTokenRegistration _cancellation;
    private CancellationToken _registeredFor;
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };

    // The next queue in the wake list this one waits in (a queue is in at most one list: it joins one only when its
    // writer stops waiting).
    internal OutboundQueue? NextToWake;

    /// <summary>Messages queued and not yet handed to the socket.</summary>
    public int PendingMessages => Volatile.Read(ref _pendingMessages);

    /// <summary>Bytes queued and not yet handed to the socket.</summary>
    public long PendingBytes => Interlocked.Read(ref _pendingBytes);

    /// <summary>
    /// Offers a message. With <paramref name="withinBounds"/> (every send but a resume's replay, which the replay buffer
    /// has bounded already) a message that would take the queue past its bounds is refused; one message alone always fits.
    /// </summary>
    public Enqueued TryEnqueue(in OutboundMessage message, Wake wake, bool withinBounds = true)
    {
        var result = Enqueue(message, withinBounds, claimWake: !wake.LeavesWriterWaiting, out var claimed);
        if (claimed)
        {
            wake.Apply(this);
        }

        return result;
    }

    /// <summary>
    /// As <see cref="TryEnqueue"/>, but a waiting writer's wake is taken for the caller instead of applied: when
    /// <paramref name="claimed"/> is true the caller must call <see cref="WakeClaimed"/> (outside any lock of its own), or
    /// the writer never runs. One lock for the queue and the claim, where a deferred send and a later
    /// <see cref="WakeIfPending"/> take two.
    /// </summary>
    public Enqueued TryEnqueueClaimingWake(in OutboundMessage message, out bool claimed) => Enqueue(message, withinBounds: true, claimWake: true, out claimed);

    /// <summary>Wakes the writer whose wake <see cref="TryEnqueueClaimingWake"/> claimed.</summary>
    public void WakeClaimed(Wake wake)
    {
        if (wake.LeavesWriterWaiting)
        {
            throw new ArgumentException("A claimed wake must be applied.", nameof(wake));
        }

        wake.Apply(this);
    }

    private Enqueued Enqueue(in OutboundMessage message, bool withinBounds, bool claimWake, out bool claimed)
    {
        claimed = false;
        var bytes = message.Payload.Length;
        lock (_gate)
        {
            if (_completed)
            {
                return Enqueued.Closed;
            }

            if (message.LatestKey is { } key)
            {
                _latest ??= new Dictionary<string, LatestSlot>(StringComparer.Ordinal);
                if (_latest.TryGetValue(key, out var slot) && slot.Pending)
                {
                    // A value of this event is still waiting: the newer one takes its place in the queue.
                    Interlocked.Add(ref _pendingBytes, bytes - slot.Payload.Length);
                    slot.Delivered?.TrySetResult(false);
                    slot.Payload = message.Payload;
                    slot.Delivered = message.Delivered;
                    return Enqueued.Replaced;
                }

                slot ??= _latest[key] = new LatestSlot();
                slot.Pending = true;
                slot.Payload = message.Payload;
                slot.Delivered = message.Delivered;
            }
            else if (withinBounds && PendingMessages > 0 && (PendingMessages + 1 > maxMessages || PendingBytes + bytes > maxBytes))
            {
                return message.Delivery == VizDelivery.Reliable ? Enqueued.Overflowed : Enqueued.Dropped;
            }

            if (_count == _ring.Length)
            {
                Resize(Math.Max(MinCapacity, _ring.Length * 2));
            }

            _ring[(_head + _count) % _ring.Length] = message;
            _count++;
            Interlocked.Increment(ref _pendingMessages);
            Interlocked.Add(ref _pendingBytes, bytes);
            if (_waiting && claimWake)
            {
                _waiting = false;
                claimed = true;
            }

            return Enqueued.Queued;
        }
    }

    /// <summary>
    /// Wakes the writer as <paramref name="wake"/> says if it waits while messages are queued: after sends made with
    /// <see cref="Wake.Deferred"/>, for instance under a lock the writer must not run inside of.
    /// </summary>
    public void WakeIfPending(Wake wake)
    {
        // Most calls find the writer busy: no lock then. Safe without it: a writer that parks after our enqueue sees the
        // message under the lock and does not park, and one parked before it is seen here (the enqueue's lock release fences).
        if (wake.LeavesWriterWaiting || !Volatile.Read(ref _waiting))
        {
            return;
        }

        lock (_gate)
        {
            if (!_waiting || _count == 0 || wake.LeavesWriterWaiting)
            {
                return;
            }

            _waiting = false;
        }

        wake.Apply(this);
    }

    /// <summary>Wakes this writer on the calling thread: its drain and write run here, until it waits again.</summary>
    internal void RunWriterHere()
    {
        _signal.RunContinuationsAsynchronously = false;
        _signal.SetResult(true);
    }

    /// <summary>Takes the oldest message, if any (the reader only); a latest-class one carries its newest value.</summary>
    public bool TryDequeue(out OutboundMessage message, out ReadOnlyMemory<byte> payload, out TaskCompletionSource<bool>? delivered)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                message = default;
                payload = default;
                delivered = null;
                return false;
            }

            message = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
            if (message.LatestKey is { } key)
            {
                var slot = _latest![key];
                slot.Pending = false;
                payload = slot.Payload;
                delivered = slot.Delivered;
                slot.Payload = ReadOnlyMemory<byte>.Empty;
                slot.Delivered = null;
            }
            else
            {
                payload = message.Payload;
                delivered = message.Delivered;
            }

            return true;
        }
    }

    /// <summary>
    /// Counts messages off once they are handed to the socket (not when the write completes, see the write loop). Without
    /// the lock: the writer calls it once per write, while senders may be walking the same queues.
    /// </summary>
    public void MarkHandedOff(int messages, long bytes)
    {
        Interlocked.Add(ref _pendingMessages, -messages);
        Interlocked.Add(ref _pendingBytes, -bytes);
    }

    /// <summary>
    /// Gives back a ring that a burst grew, once the queue is empty (the once-a-second maintenance calls it): a busy
    /// connection keeps its ring between bursts instead of growing it again each time; an idle one holds none.
    /// </summary>
    public void TrimIfEmpty()
    {
        lock (_gate)
        {
            if (_count == 0 && _ring.Length > RetainedCapacity)
            {
                _ring = [];
                _head = 0;
            }
        }
    }

    /// <summary>
    /// Completes when a message can be read (<see langword="true"/>) or the queue is completed and empty
    /// (<see langword="false"/>); throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires first.
    /// One wait at a time (the reader only).
    /// </summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_count > 0)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<bool>(cancellationToken);
            }

            _signal.Reset();
            _signal.RunContinuationsAsynchronously = true;
            _waiting = true;
        }

        // One registration for all the waits on one token, not one per wait: the writer waits once per wake, which for a
        // client sent to every frame is every frame. A cancellation between waits is seen by the next wait, under the lock.
        if (cancellationToken.CanBeCanceled && cancellationToken != _registeredFor)
        {
            _cancellation.Dispose();
            _registeredFor = cancellationToken;
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((OutboundQueue)state!).CancelWait(token), this);
        }

        return new ValueTask<bool>(this, _signal.Version);
    }

    /// <summary>No more messages will be accepted; what is queued can still be read.</summary>
    public bool TryComplete()
    {
        lock (_gate)
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
            if (!_waiting)
            {
                return true;
            }

            _waiting = false;
        }

        // Off this thread: the caller may hold a lock of its own, and the writer's close path must not run under it.
        _signal.SetResult(_count > 0);
        return true;
    }

    /// <summary>
    /// Completes the queue with <paramref name="close"/> as its last item, so it goes out after what is queued; false
    /// when the queue was completed already.
    /// </summary>
    public bool TryCompleteWith(in OutboundMessage close)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return false;
            }

            if (_count == _ring.Length)
            {
                Resize(Math.Max(MinCapacity, _ring.Length * 2));
            }

            _ring[(_head + _count) % _ring.Length] = close;
            _count++;
            _completed = true;
            if (!_waiting)
            {
                return true;
            }

            _waiting = false;
        }

        _signal.SetResult(true);
        return true;
    }

    private void CancelWait(CancellationToken token)
    {
        lock (_gate)
        {
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
        }

        _signal.SetException(new OperationCanceledException(token));
    }

    private void Resize(int capacity)
    {
        var ring = new OutboundMessage[capacity];
        for (var i = 0; i < _count; i++)
        {
            ring[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = ring;
        _head = 0;
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _signal.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags);

    private sealed class LatestSlot
    {
        public bool Pending;
        public ReadOnlyMemory<byte> Payload;
        public TaskCompletionSource<bool>? Delivered;
    }
}
