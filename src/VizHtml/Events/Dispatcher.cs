using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace VizHtml.Events;

/// <summary>
/// Runs handler work where the host wants it, one item at a time and in the order posted. An item may complete
/// asynchronously (an <c>async</c> handler that awaits): the next item starts only when it has completed, so one
/// client's connect, messages and disconnect stay in order across awaits. Items catch user exceptions themselves
/// (<see cref="Handlers"/>); <see cref="Run"/> is the last guard, so a bug in VizHtml's own work item never stops the loop.
/// </summary>
internal abstract class Dispatcher
{
    private ILogger _logger = NullLogger.Instance;

    /// <summary>Starts one item; a synchronous throw or an asynchronous fault is logged, never rethrown.</summary>
    protected ValueTask Run(Func<ValueTask> work)
    {
        try
        {
            var pending = work();
            return pending.IsCompletedSuccessfully ? default : Handlers.ObserveAsync(pending, "a dispatched work item", _logger);
        }
#pragma warning disable CA1031 // The dispatcher must outlive any single work item.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogError(ex, "A dispatched work item failed; the dispatcher carries on");
            return default;
        }
    }

    /// <summary>Queues an item; it runs after every item posted before it has completed.</summary>
    public abstract void Post(Func<ValueTask> work);

    /// <summary>
    /// As <see cref="Post"/>, from a connection's read loop, which may run the item itself (up to its first incomplete
    /// await) when nothing else is running. Returns when the item has run or been queued.
    /// </summary>
    public virtual void PostFromReader(Func<ValueTask> work) => Post(work);

    /// <summary>Runs queued work on the caller's thread; only the manual dispatcher has any.</summary>
    public virtual int DispatchPending(int maxItems) =>
        throw new InvalidOperationException($"DispatchPending is only for {nameof(VizDispatchMode)}.{nameof(VizDispatchMode.Manual)}; this server delivers handlers itself.");

    /// <summary>Lets queued work finish, up to <paramref name="timeout"/>; nothing posted afterwards runs.</summary>
    public virtual Task DrainAsync(TimeSpan timeout) => Task.CompletedTask;

    public static Dispatcher Create(VizDispatchMode mode, SynchronizationContext? context, ILogger? logger = null)
    {
        Dispatcher dispatcher = mode switch
        {
            VizDispatchMode.Serialized => new SerializedDispatcher(),
            VizDispatchMode.SynchronizationContext => new ContextDispatcher(context ?? SynchronizationContext.Current
                ?? throw new InvalidOperationException($"{nameof(VizHtmlOptions)}.{nameof(VizHtmlOptions.Dispatch)} is {mode}, but neither {nameof(VizHtmlOptions)}.{nameof(VizHtmlOptions.SynchronizationContext)} nor SynchronizationContext.Current is set.")),
            VizDispatchMode.Manual => new ManualDispatcher(),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown dispatch mode."),
        };
        dispatcher._logger = logger ?? NullLogger.Instance;
        return dispatcher;
    }
}

/// <summary>
/// A queue drained by one runner at a time. Whoever moves the drain flag from 0 to 1 runs items in order until the
/// queue is empty, then lets go; an item that completes asynchronously keeps the flag until it completes, then the
/// drain goes on from a thread-pool work item. A read loop that finds the queue idle runs its own message's item on
/// its own thread (no hop); otherwise a thread-pool work item does.
/// </summary>
internal abstract class SequentialDispatcher : Dispatcher
{
    private readonly ConcurrentQueue<Func<ValueTask>> _work = new();
    private int _draining;
    private volatile bool _completed;

    protected bool IsEmpty => _work.IsEmpty;

    /// <summary>Queues the work; true when the caller now holds the drain (nothing was running) and must see it run.</summary>
    protected bool EnqueueAndTakeDrain(Func<ValueTask> work)
    {
        if (_completed)
        {
            return false;
        }

        _work.Enqueue(work);
        return Interlocked.CompareExchange(ref _draining, 1, 0) == 0;
    }

    /// <summary>Has the drain continue elsewhere (a thread-pool item, the context); the caller holds the drain.</summary>
    protected abstract void ScheduleDrain();

    /// <summary>
    /// Runs queued items (the caller holds the drain) until the queue is empty, an item goes asynchronous (its
    /// completion schedules the rest) or the budget is spent (the rest is scheduled).
    /// </summary>
    protected void Drain(int budget)
    {
        while (true)
        {
            while (budget-- > 0 && _work.TryDequeue(out var work))
            {
                var pending = Run(work);
                if (!pending.IsCompleted)
                {
                    // The drain stays taken across the await: the next item waits for this one.
                    _ = ResumeAfterAsync(pending);
                    return;
                }
            }

            if (budget < 0 && !_work.IsEmpty)
            {
                ScheduleDrain();
                return;
            }

            Volatile.Write(ref _draining, 0);

            // An item posted between the last TryDequeue and the release found the drain taken: take it back.
            if (_work.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private async Task ResumeAfterAsync(ValueTask pending)
    {
        // Observed by Run already (never faults); not continued inline on whatever thread completed the user's task.
        await pending.ConfigureAwait(false);
        ScheduleDrain();
    }

    public override async Task DrainAsync(TimeSpan timeout)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            drained.TrySetResult();
            return default;
        });
        _completed = true;
        await Task.WhenAny(drained.Task, Task.Delay(timeout)).ConfigureAwait(false);
    }
}

/// <summary>The default: items run one at a time, in order, on thread-pool threads (or the reading thread when idle).</summary>
internal sealed class SerializedDispatcher : SequentialDispatcher, IThreadPoolWorkItem
{
    private const int InlineBudget = 64;
    private const int WorkItemBudget = 4096;

    public override void Post(Func<ValueTask> work)
    {
        if (EnqueueAndTakeDrain(work))
        {
            ScheduleDrain();
        }
    }

    public override void PostFromReader(Func<ValueTask> work)
    {
        if (EnqueueAndTakeDrain(work))
        {
            Drain(InlineBudget);
        }
    }

    protected override void ScheduleDrain() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    void IThreadPoolWorkItem.Execute() => Drain(WorkItemBudget);
}

/// <summary>
/// Items run on a <see cref="SynchronizationContext"/> (a UI thread), one at a time and in order: the drain is posted to
/// the context, and an item that awaits hands the rest back to the context when it completes.
/// </summary>
internal sealed class ContextDispatcher(SynchronizationContext context) : SequentialDispatcher
{
    private const int PostBudget = 256;

    public override void Post(Func<ValueTask> work)
    {
        if (EnqueueAndTakeDrain(work))
        {
            ScheduleDrain();
        }
    }

    protected override void ScheduleDrain() => context.Post(static state => ((ContextDispatcher)state!).Drain(PostBudget), this);
}

/// <summary>
/// Holds work until the host's loop calls <see cref="DispatchPending"/>. While it runs, a <see cref="SynchronizationContext"/>
/// of its own is current, so an <c>async</c> handler's continuations come back to the host's loop too (in a later
/// call), and the next event waits until that handler has completed.
/// </summary>
internal sealed class ManualDispatcher : Dispatcher
{
    private readonly ConcurrentQueue<Func<ValueTask>> _work = new();
    private readonly LoopContext _context;
    private volatile bool _inFlight;

    public ManualDispatcher() => _context = new LoopContext();

    public override void Post(Func<ValueTask> work) => _work.Enqueue(work);

    public override int DispatchPending(int maxItems)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_context);
        try
        {
            // Continuations of handlers that awaited first: they belong to items already under way.
            _context.RunPosted();

            // Only what was queued before the call runs, so a handler that causes more events cannot starve the host's frame.
            var budget = Math.Min(maxItems, _work.Count);
            var ran = 0;
            while (ran < budget && !_inFlight && _work.TryDequeue(out var work))
            {
                ran++;
                var pending = Run(work);
                if (!pending.IsCompleted)
                {
                    _inFlight = true;
                    _ = ClearWhenDoneAsync(pending);
                }
            }

            return ran;
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private async Task ClearWhenDoneAsync(ValueTask pending)
    {
        await pending.ConfigureAwait(false);
        _inFlight = false;
    }

    /// <summary>Queues continuations posted while handlers run, for the host's next <see cref="DispatchPending"/>.</summary>
    private sealed class LoopContext : SynchronizationContext
    {
        private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _posted = new();

        public override void Post(SendOrPostCallback d, object? state) => _posted.Enqueue((d, state));

        public override SynchronizationContext CreateCopy() => this;

        public void RunPosted()
        {
            var budget = _posted.Count;
            while (budget-- > 0 && _posted.TryDequeue(out var item))
            {
                item.Callback(item.State);
            }
        }
    }
}
