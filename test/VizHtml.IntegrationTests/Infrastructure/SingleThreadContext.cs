using System.Collections.Concurrent;

namespace VizHtml.IntegrationTests.Infrastructure;

/// <summary>A UI-like context: one thread runs every posted callback in order, as a WinForms or WPF thread does.</summary>
public sealed class SingleThreadContext : SynchronizationContext, IDisposable
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = [];
    private readonly Thread _thread;

    public SingleThreadContext()
    {
        _thread = new Thread(() =>
        {
            SetSynchronizationContext(this);
            foreach (var (callback, state) in _queue.GetConsumingEnumerable())
            {
                callback(state);
            }
        }) { IsBackground = true, Name = "test UI thread" };
        _thread.Start();
    }

    public int ThreadId => _thread.ManagedThreadId;

    public override void Post(SendOrPostCallback d, object? state)
    {
        try
        {
            _queue.Add((d, state));
        }
        catch (InvalidOperationException)
        {
            // Completed: the test is over and its server gone.
        }
    }

    public override SynchronizationContext CreateCopy() => this;

    public void Dispose()
    {
        _queue.CompleteAdding();

        // A handler that never returned holds the thread: that is the failure a test reports, not a reason to hang here.
        _thread.Join(TestServer.Timeout);
    }
}
