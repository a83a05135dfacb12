using System.Collections.Concurrent;
using System.Threading.Channels;
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
internal sealed class SerializedDispatcher : Dispatcher
{
    private readonly Channel<Action> _work = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public SerializedDispatcher() => _loop = Task.Run(RunAsync);

    public override void Post(Action work) => _work.Writer.TryWrite(work);

    public override async Task DrainAsync(TimeSpan timeout)
    {
        _work.Writer.TryComplete();
        await Task.WhenAny(_loop, Task.Delay(timeout)).ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        await foreach (var work in _work.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            // A send from a handler wakes its connection's writer on this thread: a handler's answer costs no extra hop.
            Connections.SendQueue.WriteInlineOnThisThread(true);
            try
            {
                Run(work);
            }
            finally
            {
                Connections.SendQueue.WriteInlineOnThisThread(false);
            }
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
