namespace System.Threading;

/// <summary>
/// A cancellation source that fires after a delay on a <see cref="TimeProvider"/>, by the same call on both builds: on
/// .NET Standard it is Microsoft.Bcl.TimeProvider's extension, here .NET 8's constructor.
/// </summary>
internal static class TimeProviderCompat
{
    public static CancellationTokenSource CreateCancellationTokenSource(this TimeProvider timeProvider, TimeSpan delay) => new(delay, timeProvider);
}
