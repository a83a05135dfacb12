using System.Threading.Tasks.Sources;

namespace VizHtml.Connections;

/// <summary>
/// A connection's send queue: many writers (any thread that sends), one reader (the connection's write loop). A ring
/// of frames under a lock of its own, so a broadcast never contends with another client's queue. It holds no array
/// until something is queued and gives a large one back once it has stayed empty, so an idle connection costs a
/// few dozen bytes (an unbounded <see cref="System.Threading.Channels.Channel{T}"/> costs about 3 KB before its first item).
/// Waiting allocates nothing after the first wait: the reader awaits this object as a reusable <see cref="IValueTaskSource{TResult}"/>.
/// </summary>
internal sealed class SendQueue : IValueTaskSource<bool>
{
    private const int MinCapacity = 4;

    // Empty rings at most this large stay; a larger one, grown by a burst, is given back by TrimIfEmpty.
    private const int RetainedCapacity = 16;

    private readonly Lock _gate = new();
    private OutboundFrame[] _ring = [];
    private int _head;
    private int _count;
    private bool _completed;
    private bool _waiting;
    private CancellationTokenRegistration _cancellation;
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };

    /// <summary>Adds a frame; <see langword="false"/> once the queue is completed.</summary>
    public bool TryWrite(in OutboundFrame frame)
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

            _ring[(_head + _count) % _ring.Length] = frame;
            _count++;
            if (!_waiting)
            {
                return true;
            }

            _waiting = false;
        }

        if (t_deferred is { } deferred)
        {
            // Inside a broadcast: the writer is woken with the others, afterwards, from one thread-pool work item.
            deferred.Add(this);
            return true;
        }

        if (t_writeInline)
        {
            // While VizHtml's dispatcher runs a handler (a handler answering): the write runs here, without a thread-pool hop.
            WakeInline();
            return true;
        }

        Wake(result: true);
        return true;
    }

    [ThreadStatic]
    private static bool t_writeInline;

    /// <summary>
    /// Marks the calling thread as one whose sends may run their writer inline (set by VizHtml's serialized dispatcher
    /// while it runs handlers, never on a host or user thread): a handler's answer then reaches the socket without a
    /// thread-pool hop.
    /// </summary>
    public static void WriteInlineOnThisThread(bool inline) => t_writeInline = inline;

    [ThreadStatic]
    private static WakeBatch? t_deferred;

    /// <summary>
    /// Until <see cref="EndDeferringWakes"/>, writes on this thread that find their writer waiting do not wake it one by
    /// one through the thread pool; the writers are woken together, in one thread-pool work item that runs each one's
    /// drain and write in turn. A broadcast to N idle clients then costs one thread-pool hop instead of N.
    /// </summary>
    /// <returns><see langword="true"/> when this call started deferring (and so must end it); false inside an outer deferral.</returns>
    private static bool BeginDeferringWakes()
    {
        if (t_deferred is not null)
        {
            return false;
        }

        t_deferred = WakeBatch.Rent();
        return true;
    }

    /// <summary>
    /// Wakes the writers collected since <see cref="BeginDeferringWakes"/>: from one thread-pool work item, or with
    /// <paramref name="inline"/> here, on the calling thread (a read loop answering its own client).
    /// </summary>
    private static void EndDeferringWakes(bool inline)
    {
        var batch = t_deferred;
        t_deferred = null;
        if (batch is null)
        {
            return;
        }

        if (batch.Count == 0)
        {
            WakeBatch.Return(batch);
        }
        else if (inline)
        {
            batch.Execute();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(batch, preferLocal: false);
        }
    }

    /// <summary>
    /// Defers this thread's writer wakes until the returned scope is disposed (see <see cref="BeginDeferringWakes"/>); a
    /// scope inside another one leaves the waking to the outer scope.
    /// </summary>
    /// <param name="inline">Wake them on this thread rather than from a thread-pool work item.</param>
    public static WakeScope DeferWakes(bool inline = false) => new(BeginDeferringWakes(), inline);

    /// <summary>Ends a <see cref="DeferWakes"/> scope.</summary>
    public readonly ref struct WakeScope(bool owner, bool inline)
    {
        public void Dispose()
        {
            if (owner)
            {
                EndDeferringWakes(inline);
            }
        }
    }

    /// <summary>Wakes this writer on the calling thread: its drain and write run here, until it waits again.</summary>
    private void WakeInline()
    {
        _signal.RunContinuationsAsynchronously = false;
        _signal.SetResult(true);
    }

    // The next queue in the wake batch this one waits in (a queue is in at most one batch: it joins one only when its
    // writer stops waiting).
    private SendQueue? _nextToWake;

    /// <summary>
    /// The writers one broadcast found waiting, as a list threaded through the queues themselves (so a broadcast to any
    /// number of clients allocates nothing for it), woken in order by one thread-pool work item; pooled.
    /// </summary>
    private sealed class WakeBatch : IThreadPoolWorkItem
    {
        private static readonly System.Collections.Concurrent.ConcurrentQueue<WakeBatch> Pool = new();

        private SendQueue? _head;
        private SendQueue? _tail;

        public int Count { get; private set; }

        public static WakeBatch Rent() => Pool.TryDequeue(out var batch) ? batch : new WakeBatch();

        public static void Return(WakeBatch batch)
        {
            if (Pool.Count < 64)
            {
                Pool.Enqueue(batch);
            }
        }

        public void Add(SendQueue queue)
        {
            if (_tail is null)
            {
                _head = queue;
            }
            else
            {
                _tail._nextToWake = queue;
            }

            _tail = queue;
            Count++;
        }

        public void Execute()
        {
            var queue = _head;
            _head = _tail = null;
            Count = 0;
            while (queue is not null)
            {
                // Unlinked before the wake: the woken writer may wait again and join another batch at once.
                var next = queue._nextToWake;
                queue._nextToWake = null;
                queue.WakeInline();
                queue = next;
            }

            Return(this);
        }
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

    /// <summary>Takes the oldest frame, if any (the reader only).</summary>
    public bool TryRead(out OutboundFrame frame)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                frame = default;
                return false;
            }

            frame = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
            return true;
        }
    }

    /// <summary>
    /// Completes when a frame can be read (<see langword="true"/>) or the queue is completed and empty
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

        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((SendQueue)state!).CancelWait(token), this);
        }

        return new ValueTask<bool>(this, _signal.Version);
    }

    /// <summary>No more frames will be accepted; what is queued can still be read.</summary>
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

        Wake(result: _count > 0);
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

    private void Wake(bool result) => _signal.SetResult(result);

    private void Resize(int capacity)
    {
        var ring = new OutboundFrame[capacity];
        for (var i = 0; i < _count; i++)
        {
            ring[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = ring;
        _head = 0;
    }

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        // The registration is released before the result is taken, so a later wait can register again.
        _cancellation.Dispose();
        _cancellation = default;
        return _signal.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags);
}
