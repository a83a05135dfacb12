namespace System.Threading;

/// <summary>A work item the thread pool runs (<c>ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal)</c> on .NET).</summary>
internal interface IThreadPoolWorkItem
{
    void Execute();
}

/// <summary>Thread pool, cancellation and time calls of .NET 5 to 8, over what .NET Standard 2.0 has.</summary>
internal static class ThreadingCompat
{
    extension(ThreadPool)
    {
        public static bool UnsafeQueueUserWorkItem(IThreadPoolWorkItem callBack, bool preferLocal) =>
            ThreadPool.UnsafeQueueUserWorkItem(static state => ((IThreadPoolWorkItem)state!).Execute(), callBack);
    }

    extension(Environment)
    {
        public static long TickCount64 => (long)(System.Diagnostics.Stopwatch.GetTimestamp() / (System.Diagnostics.Stopwatch.Frequency / 1000.0));
    }

    public static Task CancelAsync(this CancellationTokenSource source)
    {
        source.Cancel();
        return Task.CompletedTask;
    }

    public static CancellationTokenRegistration UnsafeRegister(this CancellationToken token, Action<object?, CancellationToken> callback, object? state) =>
        token.Register(s => callback(s, token), state, useSynchronizationContext: false);

    public static CancellationTokenRegistration UnsafeRegister(this CancellationToken token, Action<object?> callback, object? state) =>
        token.Register(callback, state, useSynchronizationContext: false);
}

/// <summary>The .NET 6 periodic timer, on a <see cref="TimeProvider"/>: one tick remembered while nobody waits.</summary>
internal sealed class PeriodicTimer : IDisposable
{
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private TaskCompletionSource<bool>? _waiter;
    private bool _ticked;
    private bool _disposed;

    public PeriodicTimer(TimeSpan period)
        : this(period, TimeProvider.System)
    {
    }

    public PeriodicTimer(TimeSpan period, TimeProvider timeProvider) =>
        _timer = timeProvider.CreateTimer(static state => ((PeriodicTimer)state!).Tick(), this, period, period);

    public ValueTask<bool> WaitForNextTickAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource<bool> waiter;
        lock (_gate)
        {
            if (_disposed)
            {
                return new ValueTask<bool>(false);
            }

            if (_ticked)
            {
                _ticked = false;
                return new ValueTask<bool>(true);
            }

            waiter = _waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (!cancellationToken.CanBeCanceled)
        {
            return new ValueTask<bool>(waiter.Task);
        }

        var registration = cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                if (ReferenceEquals(_waiter, waiter))
                {
                    _waiter = null;
                }
            }

            waiter.TrySetCanceled(cancellationToken);
        });
        _ = waiter.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return new ValueTask<bool>(waiter.Task);
    }

    private void Tick()
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            waiter = _waiter;
            _waiter = null;
            _ticked = waiter is null;
        }

        waiter?.TrySetResult(true);
    }

    public void Dispose()
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            _disposed = true;
            waiter = _waiter;
            _waiter = null;
        }

        _timer.Dispose();
        waiter?.TrySetResult(false);
    }
}
