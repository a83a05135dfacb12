using VizHtml.Events;

namespace VizHtml.Tests.Events;

public sealed class DispatcherTests
{
    [Fact]
    public void ManualDispatcherRunsNothingUntilAskedAndThenOnTheCallersThread()
    {
        var dispatcher = Dispatcher.Create(VizDispatchMode.Manual, null);
        var threads = new List<int>();
        dispatcher.Post(() => threads.Add(Environment.CurrentManagedThreadId));
        dispatcher.Post(() => threads.Add(Environment.CurrentManagedThreadId));
        Assert.Empty(threads);

        Assert.Equal(1, dispatcher.DispatchPending(1));
        Assert.Equal(1, dispatcher.DispatchPending(int.MaxValue));
        Assert.Equal(0, dispatcher.DispatchPending(int.MaxValue));
        Assert.Equal([Environment.CurrentManagedThreadId, Environment.CurrentManagedThreadId], threads);
    }

    [Fact]
    public void ManualDispatchRunsOnlyWhatWasQueuedBeforeTheCall()
    {
        var dispatcher = Dispatcher.Create(VizDispatchMode.Manual, null);
        var ran = 0;
        dispatcher.Post(() =>
        {
            ran++;
            dispatcher.Post(() => ran++);
        });

        Assert.Equal(1, dispatcher.DispatchPending(int.MaxValue));
        Assert.Equal(1, ran);
        Assert.Equal(1, dispatcher.DispatchPending(int.MaxValue));
        Assert.Equal(2, ran);
    }

    [Fact]
    public void DispatchPendingOnAnAutomaticDispatcherSaysWhy()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Dispatcher.Create(VizDispatchMode.Serialized, null).DispatchPending(1));
        Assert.Contains("Manual", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContextModeWithoutAContextNamesTheOption()
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            var ex = Assert.Throws<InvalidOperationException>(() => Dispatcher.Create(VizDispatchMode.SynchronizationContext, null));
            Assert.Contains(nameof(VizHtmlOptions.SynchronizationContext), ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    [Fact]
    public async Task SerializedDispatcherKeepsOrderAndNeverOverlaps()
    {
        var dispatcher = Dispatcher.Create(VizDispatchMode.Serialized, null);
        var order = new List<int>();
        var running = 0;
        var overlapped = false;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int Items = 2000;

        // Posted from several threads at once, as read loops do.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < Items / 4; i++)
            {
                var value = (t * (Items / 4)) + i;
                dispatcher.Post(() =>
                {
                    overlapped |= Interlocked.Increment(ref running) > 1;
                    order.Add(value);
                    Interlocked.Decrement(ref running);
                    if (order.Count == Items)
                    {
                        done.SetResult();
                    }
                });
            }
        })));

        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(overlapped);
        for (var t = 0; t < 4; t++)
        {
            var fromThread = order.Where(v => v / (Items / 4) == t).ToArray();
            Assert.Equal(fromThread.Order(), fromThread);
        }
    }

    [Fact]
    public void HandlerListSnapshotsSurviveUnsubscribeDuringDelivery()
    {
        var list = new HandlerList<Action>();
        var calls = new List<string>();
        IDisposable? second = null;
        list.Add(() =>
        {
            calls.Add("first");
            second!.Dispose();
        });
        second = list.Add(() => calls.Add("second"));

        foreach (var handler in list.Snapshot)
        {
            handler();
        }

        foreach (var handler in list.Snapshot)
        {
            handler();
        }

        Assert.Equal(["first", "second", "first"], calls);
    }
}

/// <summary>Synchronous work items, as most handlers are.</summary>
internal static class DispatcherActions
{
    public static void Post(this Dispatcher dispatcher, Action work) => dispatcher.Post(() =>
    {
        work();
        return default;
    });
}
