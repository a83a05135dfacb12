using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VizHtml.Diagnostics;

namespace VizHtml.Events;

/// <summary>
/// Request name to its one handler, and the boundary where a request handler's exception becomes an error answer: a
/// <see cref="VizRequestException"/> answers with its code and message, anything else with <c>handler_error</c> and a
/// generic message (the exception is logged; its text is sent only with <see cref="DetailedErrors"/>). A request with no
/// handler is answered <c>no_handler</c>. Each run is a span and a <c>vizhtml.handler.duration</c> of kind <c>request</c>.
/// </summary>
internal sealed class RequestHandlers(ILogger logger, VizHtmlMetrics? metrics, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Func<VizRequestEvent, ValueTask<object?>>> _byName = new(StringComparer.Ordinal);

    /// <summary>Whether a handler's exception text is sent to the requester.</summary>
    public bool DetailedErrors { get; init; }

    /// <summary>How answers are written.</summary>
    public JsonSerializerOptions JsonOptions { get; init; } = new(JsonSerializerDefaults.Web);

    /// <exception cref="InvalidOperationException">The name has a handler already.</exception>
    public IDisposable On(string eventName, Func<VizRequestEvent, ValueTask<object?>> handler)
    {
        if (!_byName.TryAdd(eventName, handler))
        {
            throw new InvalidOperationException($"Request '{eventName}' already has a handler (one per name); dispose its registration first.");
        }

        return new Registration(this, eventName, handler);
    }

    /// <summary>Runs the request's handler and sends its answer; completes when it has (never faults).</summary>
    public ValueTask DeliverAsync(VizRequestEvent e)
    {
        if (!_byName.TryGetValue(e.Event, out var handler))
        {
            logger.LogDebug("No handler for request {Event} from {Address}", e.Event, e.Client.Address);
            e.Fail(RequestErrors.NoHandler, $"no handler for request '{e.Event}'");
            return default;
        }

        var scope = HandlerScope.Begin(VizHtmlActivities.SocketRequest, ActivityKind.Server, default, metrics, time, HandlerKind.Request);
        scope.Activity?.SetTag("vizhtml.event", e.Event).SetTag("vizhtml.client.id", e.Client.Id);
        return scope.Finish(Run(handler, e, scope.Activity));
    }

    private ValueTask Run(Func<VizRequestEvent, ValueTask<object?>> handler, VizRequestEvent e, Activity? span)
    {
        ValueTask<object?> pending;
        try
        {
            pending = handler(e);
        }
#pragma warning disable CA1031 // The boundary: whatever the handler throws becomes an error answer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fail(e, ex, span);
            return default;
        }

        if (pending.IsCompletedSuccessfully)
        {
            Answer(e, pending.Result, span);
            return default;
        }

        return AnswerWhenDoneAsync(pending, e, span);
    }

    private async ValueTask AnswerWhenDoneAsync(ValueTask<object?> pending, VizRequestEvent e, Activity? span)
    {
        object? value;
        try
        {
            value = await pending.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // As above, after an await.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fail(e, ex, span);
            return;
        }

        Answer(e, value, span);
    }

    private void Answer(VizRequestEvent e, object? value, Activity? span)
    {
        try
        {
            e.Answer(value, JsonOptions);
        }
#pragma warning disable CA1031 // An answer System.Text.Json cannot write is the handler's error, answered as one.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fail(e, ex, span);
        }
    }

    private void Fail(VizRequestEvent e, Exception ex, Activity? span)
    {
        span?.SetStatus(ActivityStatusCode.Error);
        if (ex is VizRequestException chosen)
        {
            logger.LogDebug("The request handler for {Event} answered with the error {Code}", e.Event, chosen.Code);
            e.Fail(chosen.Code, chosen.Message);
            return;
        }

        logger.LogError(ex, "The request handler for {Event} threw; the requester gets {Code}", e.Event, RequestErrors.HandlerError);
        e.Fail(RequestErrors.HandlerError, DetailedErrors ? ex.Message : $"the handler for request '{e.Event}' failed");
    }

    private sealed class Registration(RequestHandlers owner, string eventName, Func<VizRequestEvent, ValueTask<object?>> handler) : IDisposable
    {
        private RequestHandlers? _owner = owner;

        public void Dispose() =>
            ((ICollection<KeyValuePair<string, Func<VizRequestEvent, ValueTask<object?>>>>?)Interlocked.Exchange(ref _owner, null)?._byName)
                ?.Remove(new KeyValuePair<string, Func<VizRequestEvent, ValueTask<object?>>>(eventName, handler));
    }
}
