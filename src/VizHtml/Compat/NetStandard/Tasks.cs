namespace System.Threading.Tasks;

/// <summary>The non-generic completion source of .NET 5, over one of <see cref="object"/>.</summary>
internal sealed class TaskCompletionSource(TaskCreationOptions options)
{
    private readonly TaskCompletionSource<object?> _inner = new(options);

    public TaskCompletionSource()
        : this(TaskCreationOptions.None)
    {
    }

    public Task Task => _inner.Task;

    public void SetResult() => _inner.SetResult(null);

    public bool TrySetResult() => _inner.TrySetResult(null);

    public void SetException(Exception exception) => _inner.SetException(exception);

    public bool TrySetException(Exception exception) => _inner.TrySetException(exception);

    public void SetCanceled() => _inner.SetCanceled();

    public bool TrySetCanceled() => _inner.TrySetCanceled();

    public bool TrySetCanceled(CancellationToken cancellationToken) => _inner.TrySetCanceled(cancellationToken);
}

/// <summary>The waits of .NET 6 and 8 (<c>WaitAsync</c>, <c>Task.Delay</c> on a <see cref="TimeProvider"/>), over Microsoft.Bcl.TimeProvider's.</summary>
internal static class TaskCompat
{
    extension(ValueTask)
    {
        public static ValueTask CompletedTask => default;

        public static ValueTask FromCanceled(CancellationToken cancellationToken) => new(Task.FromCanceled(cancellationToken));

        public static ValueTask<T> FromCanceled<T>(CancellationToken cancellationToken) => new(Task.FromCanceled<T>(cancellationToken));

        public static ValueTask FromException(Exception exception) => new(Task.FromException(exception));
    }

    extension(Task)
    {
        public static Task Delay(TimeSpan delay, TimeProvider timeProvider, CancellationToken cancellationToken = default) =>
            timeProvider.Delay(delay, cancellationToken);
    }

    public static Task WaitAsync(this Task task, CancellationToken cancellationToken) =>
        task.WaitAsync(Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);

    public static Task WaitAsync(this Task task, TimeSpan timeout) =>
        task.WaitAsync(timeout, TimeProvider.System, CancellationToken.None);

    public static Task WaitAsync(this Task task, TimeSpan timeout, CancellationToken cancellationToken) =>
        task.WaitAsync(timeout, TimeProvider.System, cancellationToken);

    public static Task<T> WaitAsync<T>(this Task<T> task, CancellationToken cancellationToken) =>
        task.WaitAsync(Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);

    public static Task<T> WaitAsync<T>(this Task<T> task, TimeSpan timeout) =>
        task.WaitAsync(timeout, TimeProvider.System, CancellationToken.None);

    public static Task<T> WaitAsync<T>(this Task<T> task, TimeSpan timeout, CancellationToken cancellationToken) =>
        task.WaitAsync(timeout, TimeProvider.System, cancellationToken);
}

/// <summary>How an await continues (.NET 8); only <see cref="ForceYielding"/> is used, and honoured.</summary>
[Flags]
internal enum ConfigureAwaitOptions
{
    None = 0,
    ContinueOnCapturedContext = 1,
    SuppressThrowing = 2,
    ForceYielding = 4,
}

/// <summary>An await that always continues on the thread pool, never on the caller's context (.NET 8's ForceYielding without a captured context).</summary>
internal readonly struct ThreadPoolYieldAwaitable(Task task) : System.Runtime.CompilerServices.ICriticalNotifyCompletion
{
    public ThreadPoolYieldAwaitable GetAwaiter() => this;

    public bool IsCompleted => false;

    public void GetResult() => task.GetAwaiter().GetResult();

    public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static state => ((Action)state!)(), continuation);

    public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static state => ((Action)state!)(), continuation);
}

internal static class ConfigureAwaitCompat
{
    public static ThreadPoolYieldAwaitable ConfigureAwait(this Task task, ConfigureAwaitOptions options) =>
        options == ConfigureAwaitOptions.ForceYielding
            ? new ThreadPoolYieldAwaitable(task)
            : throw new NotSupportedException("Only ConfigureAwaitOptions.ForceYielding is supported here.");
}
