using Microsoft.Extensions.Logging;

namespace VizHtml.Events;

/// <summary>
/// The "user code may throw" boundary: each handler runs in turn (an asynchronous one to completion before the next
/// starts); one that throws, at once or after an await, is logged and the rest still run. Nothing escapes to the caller.
/// </summary>
internal static class Handlers
{
    /// <summary>Wraps a synchronous handler so it can sit in the same list as asynchronous ones.</summary>
    public static Func<T, ValueTask> FromAction<T>(Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return e =>
        {
            handler(e);
            return default;
        };
    }

    /// <summary>Calls each handler; completes synchronously when every handler did.</summary>
    /// <returns>Completes when every handler has; never faults.</returns>
    public static ValueTask InvokeAll<T>(Func<T, ValueTask>[] handlers, T e, string what, ILogger logger)
    {
        for (var i = 0; i < handlers.Length; i++)
        {
            ValueTask pending;
            try
            {
                pending = handlers[i](e);
            }
#pragma warning disable CA1031 // The boundary that keeps user exceptions away from the connection and the other handlers.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogFailure(logger, ex, what);
                continue;
            }

            if (pending.IsCompletedSuccessfully)
            {
                // A synchronous handler, or an async one that never awaited: no state machine, no allocation.
                pending.GetAwaiter().GetResult();
                continue;
            }

            return InvokeRestAsync(pending, handlers, i + 1, e, what, logger);
        }

        return default;
    }

    private static async ValueTask InvokeRestAsync<T>(ValueTask pending, Func<T, ValueTask>[] handlers, int next, T e, string what, ILogger logger)
    {
        await ObserveAsync(pending, what, logger).ConfigureAwait(false);
        for (var i = next; i < handlers.Length; i++)
        {
            ValueTask current;
            try
            {
                current = handlers[i](e);
            }
#pragma warning disable CA1031 // As above.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogFailure(logger, ex, what);
                continue;
            }

            await ObserveAsync(current, what, logger).ConfigureAwait(false);
        }
    }

    /// <summary>Awaits a handler's work and logs what it threw; never throws itself.</summary>
    public static async ValueTask ObserveAsync(ValueTask pending, string what, ILogger logger)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // As above: an exception after an await is caught here, not left unobserved.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogFailure(logger, ex, what);
        }
    }

    private static void LogFailure(ILogger logger, Exception ex, string what) =>
        logger.LogError(ex, "A handler for {Event} threw; the connection and other handlers carry on", what);
}
