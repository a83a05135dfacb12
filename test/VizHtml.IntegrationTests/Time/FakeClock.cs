using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Time;

/// <summary>Moving a <see cref="FakeTimeProvider"/> that a real server runs on (<see cref="VizHtmlOptions.TimeProvider"/>).</summary>
/// <remarks>
/// <see cref="FakeTimeProvider.Advance"/> runs every timer that falls due on the calling thread before it returns: the
/// server's once-a-second maintenance (a <see cref="PeriodicTimer"/>, whose loop body then runs right there), the
/// <c>$hello</c> timer, and the timeouts of cancellation token sources made on the clock (with their callbacks) all act inside
/// Advance. What they only set off (a cancelled write unwinding, the dispatcher raising an event, a frame reaching the
/// client) goes on on other threads; <see cref="AdvanceUntilAsync"/> is for that.
/// </remarks>
internal static class FakeClock
{
    /// <summary>Wall time <see cref="AdvanceUntilAsync"/> gives the server's own threads after each step, before the next one.</summary>
    private static readonly TimeSpan PauseBetweenSteps = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Advances <paramref name="total"/> in steps of <paramref name="step"/>. One large Advance would run a periodic timer's
    /// ticks one after another with the clock already at the end, so the maintenance would never see the seconds between.
    /// </summary>
    public static void AdvanceInSteps(this FakeTimeProvider clock, TimeSpan total, TimeSpan step)
    {
        for (var advanced = TimeSpan.Zero; advanced < total; advanced += step)
        {
            clock.Advance(step < total - advanced ? step : total - advanced);
        }
    }

    /// <summary>
    /// Advances the clock by <paramref name="step"/> until <paramref name="signal"/> completes, and returns how much fake time
    /// that took. For a timeout whose effect shows on another thread, or that a server arms at a moment the test cannot see
    /// (a write that stalls somewhere in a stream of writes).
    /// </summary>
    /// <remarks>
    /// After each step it waits for the signal up to <see cref="PauseBetweenSteps"/> of wall time, so the server's threads can
    /// act on the step before the clock moves on; that pause only paces the loop, it never lets fake time pass. Past
    /// <paramref name="limit"/> of fake time it stops advancing and waits for the signal up to <see cref="TestServer.Timeout"/>,
    /// a safety net: a server that never reacts to the clock fails the test instead of being carried along by ever more time.
    /// </remarks>
    public static async Task<TimeSpan> AdvanceUntilAsync(this FakeTimeProvider clock, Task signal, TimeSpan step, TimeSpan limit)
    {
        var advanced = TimeSpan.Zero;
        while (!signal.IsCompleted && advanced < limit)
        {
            clock.Advance(step);
            advanced += step;
            try
            {
                await signal.WaitAsync(PauseBetweenSteps);
            }
            catch (TimeoutException)
            {
                // Not yet: one more step.
            }
        }

        await signal.WaitAsync(TestServer.Timeout);
        return advanced;
    }
}
