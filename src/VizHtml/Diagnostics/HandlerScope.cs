using System.Diagnostics;

namespace VizHtml.Diagnostics;

/// <summary>
/// The <c>VizHtml</c> activity source: one span around each time user code runs for an event (its message, connect,
/// disconnect or form-submit handlers), around each request handler of a page (HTTP), and around each handler answering a
/// request that came over a socket (<c>OnRequest</c>).
/// </summary>
internal static class VizHtmlActivities
{
    public const string SourceName = "VizHtml";

    public const string Message = "vizhtml.message";
    public const string Connect = "vizhtml.connect";
    public const string Disconnect = "vizhtml.disconnect";
    public const string FormSubmit = "vizhtml.form_submit";
    public const string Request = "vizhtml.request";
    public const string SocketRequest = "vizhtml.socket_request";

    public static readonly ActivitySource Source = new(SourceName, typeof(VizHtmlActivities).Assembly.GetName().Version?.ToString());
}

/// <summary>
/// One run of handlers, as a span (when someone listens to the activity source) and a duration (when someone listens to
/// the handler duration): begun before the handlers are called, finished once they have all completed, async ones included.
/// Without listeners it holds nothing and <see cref="Finish"/> hands back the handlers' own task.
/// </summary>
internal readonly struct HandlerScope
{
    private readonly Activity? _activity;
    private readonly Activity? _previous;
    private readonly VizHtmlMetrics? _metrics;
    private readonly TimeProvider? _time;
    private readonly long _started;
    private readonly HandlerKind _kind;

    private HandlerScope(Activity? activity, Activity? previous, VizHtmlMetrics? metrics, TimeProvider? time, long started, HandlerKind kind)
    {
        _activity = activity;
        _previous = previous;
        _metrics = metrics;
        _time = time;
        _started = started;
        _kind = kind;
    }

    /// <summary>The span, to tag; <see langword="null"/> when nobody listens (or its data is not wanted).</summary>
    public Activity? Activity => _activity is { IsAllDataRequested: true } ? _activity : null;

    /// <summary>
    /// Begins a run. With no <paramref name="parent"/> the span is a root, whatever is current on this thread: events
    /// from a browser have no caller in this process (the socket's own request activity lasts as long as the connection,
    /// and the thread a dispatcher item runs on carries nothing of the event's). The run is recorded in
    /// <c>vizhtml.handler.duration</c> as <c>timedAs</c>, unless that is <see langword="null"/>.
    /// </summary>
    public static HandlerScope Begin(string spanName, ActivityKind kind, ActivityContext parent, VizHtmlMetrics? metrics, TimeProvider time, HandlerKind? timedAs)
    {
        Activity? activity = null, previous = null;
        if (VizHtmlActivities.Source.HasListeners())
        {
            previous = Activity.Current;
            if (parent == default && previous is not null)
            {
                Activity.Current = null;
            }

            activity = VizHtmlActivities.Source.StartActivity(spanName, kind, parent);
            if (activity is null)
            {
                Activity.Current = previous;
            }
        }

        // The clock is read only for a listener of the duration.
        var timing = timedAs is not null && metrics is { HandlerDurationEnabled: true };
        return new HandlerScope(activity, previous, timing ? metrics : null, time, timing ? time.GetTimestamp() : 0, timedAs.GetValueOrDefault());
    }

    /// <summary>
    /// Ends the run when <paramref name="pending"/> completes (now, if it already has), and gives the calling thread back
    /// the activity that was current before <see cref="Begin"/>.
    /// </summary>
    public ValueTask Finish(ValueTask pending)
    {
        if (_activity is null && _metrics is null)
        {
            return pending;
        }

        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult();
            End();
            RestoreCurrent();
            return default;
        }

        var finishing = FinishAsync(pending, this);
        RestoreCurrent();
        return finishing;
    }

    /// <summary>Ends the run now (a request handler, timed by its caller): the span stops, the caller's activity is current again.</summary>
    public void End(bool failed)
    {
        if (failed)
        {
            _activity?.SetStatus(ActivityStatusCode.Error);
        }

        End();
        RestoreCurrent();
    }

    private static async ValueTask FinishAsync(ValueTask pending, HandlerScope scope)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        finally
        {
            scope.End();
        }
    }

    private void End()
    {
        _activity?.Stop();
        if (_metrics is not null)
        {
            _metrics.HandlerRan(_kind, _time!.GetElapsedTime(_started));
        }
    }

    private void RestoreCurrent()
    {
        if (_activity is not null)
        {
            Activity.Current = _previous;
        }
    }
}
