using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace VizHtml.Events;

/// <summary>
/// Runs handler work where the host wants it. Work items catch user exceptions themselves (<see cref="EventRouter"/>);
/// <see cref="Run"/> is the last guard, so a bug in VizHtml's own work item can never stop the loop.
/// </summary>
internal abstract class Dispatcher
{
    private ILogger _logger = NullLogger.Instance;

    protected void Run(Action work)
    {
        try
        {
            work();
        }
#pragma warning disable CA1031 // The dispatcher must outlive any single work item.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogError(ex, "A dispatched work item failed; the dispatcher carries on");
        }
    }

    public abstract void Post(Action work);

    /// <summary>As <see cref="Post"/>, from a connection's read loop, which may run the work itself when nothing else is running.</summary>
    public virtual void PostFromReader(Action work) => Post(work);

    /// <summary>Runs queued work on the caller's thread; only the manual dispatcher has any.</summary>
    public virtual int DispatchPending(int maxItems) =>
        throw new InvalidOperationException($"DispatchPending is only for {nameof(VizDispatchMode)}.{nameof(VizDispatchMode.Manual)}; this server delivers handlers itself.");

    /// <summary>Lets queued work finish, up to <paramref name="timeout"/>.</summary>
    public virtual Task DrainAsync(TimeSpan timeout) => Task.CompletedTask;

    public static Dispatcher Create(VizDispatchMode mode, SynchronizationContext? context, ILogger? logger = null)
    {
        var dispatcher = Create(mode, context);
        dispatcher._logger = logger ?? NullLogger.Instance;
        return dispatcher;
    }

    private static Dispatcher Create(VizDispatchMode mode, SynchronizationContext? context) => mode switch
    {
        VizDispatchMode.Serialized => new SerializedDispatcher(),
        VizDispatchMode.SynchronizationContext => new ContextDispatcher(context ?? SynchronizationContext.Current
            ?? throw new InvalidOperationException($"{nameof(VizHtmlOptions)}.{nameof(VizHtmlOptions.Dispatch)} is {mode}, but neither {nameof(VizHtmlOptions)}.{nameof(VizHtmlOptions.SynchronizationContext)} nor SynchronizationContext.Current is set.")),
        VizDispatchMode.Manual => new ManualDispatcher(),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown dispatch mode."),
    };
}

/// <summary>One background loop: handlers never overlap and keep arrival order.</summary>
internal sealed class SerializedDispatcher : Dispatcher, IThreadPoolWorkItem
{
    // Items run by one drainer at a time: whoever moves _draining from 0 to 1 runs items in queue order until the queue
    // is empty, then lets go. A read loop that finds the dispatcher idle drains on its own thread (no hop); otherwise a
    // thread-pool work item does. Either way handlers run one at a time, in the order they were posted.
    private const int InlineBudget = 64;
    private const int WorkItemBudget = 4096;

    private readonly ConcurrentQueue<Action> _work = new();
    private int _draining;
    private volatile bool _completed;

    public override void Post(Action work)
    {
        if (EnqueueAndTakeDrain(work))
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    public override void PostFromReader(Action work)
    {
        if (EnqueueAndTakeDrain(work))
        {
            Drain(InlineBudget);
        }
    }

    /// <summary>Queues the work; true when the caller now holds the drain (nothing was running) and must see it run.</summary>
    private bool EnqueueAndTakeDrain(Action work)
    {
        if (_completed)
        {
            return false;
        }

        _work.Enqueue(work);
        return Interlocked.CompareExchange(ref _draining, 1, 0) == 0;
    }

    public override async Task DrainAsync(TimeSpan timeout)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() => drained.TrySetResult());
        _completed = true;
        await Task.WhenAny(drained.Task, Task.Delay(timeout)).ConfigureAwait(false);
    }

    void IThreadPoolWorkItem.Execute() => Drain(WorkItemBudget);

    /// <summary>Runs queued items (the caller holds the drain); past the budget, the rest goes to a thread-pool work item.</summary>
    private void Drain(int budget)
    {
        // A send from a handler wakes its connection's writer on this thread: a handler's answer costs no extra hop.
        Connections.SendQueue.WriteInlineOnThisThread(true);
        try
        {
            while (true)
            {
                while (budget-- > 0 && _work.TryDequeue(out var work))
                {
                    Run(work);
                }

                if (budget < 0 && !_work.IsEmpty)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
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
        finally
        {
            Connections.SendQueue.WriteInlineOnThisThread(false);
        }
    }
}

internal sealed class ContextDispatcher(SynchronizationContext context) : Dispatcher
{
    public override void Post(Action work) => context.Post(static state => { var (self, item) = ((ContextDispatcher, Action))state!; self.Run(item); }, (this, work));
}

/// <summary>Holds work until the host's loop calls <see cref="DispatchPending"/>.</summary>
internal sealed class ManualDispatcher : Dispatcher
{
    private readonly ConcurrentQueue<Action> _work = new();

    public override void Post(Action work) => _work.Enqueue(work);

    public override int DispatchPending(int maxItems)
    {
        // Only what was queued before the call runs, so a handler that causes more events cannot starve the host's frame.
        var budget = Math.Min(maxItems, _work.Count);
        var ran = 0;
        while (ran < budget && _work.TryDequeue(out var work))
        {
            Run(work);
            ran++;
        }

        return ran;
    }
}
