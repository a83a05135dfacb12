using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using VizHtml.Diagnostics;

namespace VizHtml.Events;

/// <summary>
/// Event name to handlers, synchronous and asynchronous alike. Delivery goes through <see cref="Handlers"/>, the
/// boundary where user exceptions are caught: one throwing handler is logged and the others still run; the connection
/// never sees the exception. Each run of handlers is a span of the <c>VizHtml</c> activity source and a
/// <c>vizhtml.handler.duration</c> measurement, when someone listens.
/// </summary>
internal sealed class EventRouter(ILogger logger, VizHtmlMetrics? metrics = null, TimeProvider? time = null, RequestHandlers? requests = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private readonly MessageHandlers<VizMessageEvent> _messages = new(logger);
    private readonly HandlerList<Func<VizConnectEvent, ValueTask>> _connect = new();
    private readonly HandlerList<Func<VizDisconnectEvent, ValueTask>> _disconnect = new();
    private readonly HandlerList<Func<VizFormSubmitEvent, ValueTask>> _formSubmit = new();

    public ILogger Logger => logger;

    /// <summary>Request name to its handler (<c>OnRequest</c>).</summary>
    public RequestHandlers Requests { get; } = requests ?? new(logger, metrics, time ?? TimeProvider.System);

    public IDisposable OnMessage(string eventName, Func<VizMessageEvent, ValueTask> handler) => _messages.On(eventName, handler);

    public IDisposable OnAnyMessage(Func<VizMessageEvent, ValueTask> handler) => _messages.OnAny(handler);

    public IDisposable OnConnect(Func<VizConnectEvent, ValueTask> handler) => _connect.Add(handler);

    public IDisposable OnDisconnect(Func<VizDisconnectEvent, ValueTask> handler) => _disconnect.Add(handler);

    public IDisposable OnFormSubmit(Func<VizFormSubmitEvent, ValueTask> handler) => _formSubmit.Add(handler);

    public ValueTask DeliverAsync(VizMessageEvent e)
    {
        if (!_messages.HasHandlers(e.Event))
        {
            logger.LogDebug("No handler for event {Event} from {Address}", e.Event, e.Client.Address);
            return default;
        }

        var scope = HandlerScope.Begin(VizHtmlActivities.Message, ActivityKind.Server, default, metrics, _time, HandlerKind.Message);
        scope.Activity?.SetTag("vizhtml.event", e.Event).SetTag("vizhtml.client.id", e.Client.Id);
        _messages.TryDeliver(e.Event, e, out var delivered);
        return scope.Finish(delivered);
    }

    public ValueTask DeliverAsync(VizConnectEvent e)
    {
        var handlers = _connect.Snapshot;
        if (handlers.Length == 0)
        {
            return default;
        }

        var scope = HandlerScope.Begin(VizHtmlActivities.Connect, ActivityKind.Server, default, metrics, _time, HandlerKind.Connect);
        scope.Activity?.SetTag("vizhtml.client.id", e.Client.Id).SetTag("vizhtml.connect.resumed", e.Resumed);
        return scope.Finish(Handlers.InvokeAll(handlers, e, "connect", logger));
    }

    public ValueTask DeliverAsync(VizDisconnectEvent e)
    {
        var handlers = _disconnect.Snapshot;
        if (handlers.Length == 0)
        {
            return default;
        }

        var scope = HandlerScope.Begin(VizHtmlActivities.Disconnect, ActivityKind.Server, default, metrics, _time, HandlerKind.Disconnect);
        scope.Activity?.SetTag("vizhtml.client.id", e.Client.Id).SetTag("vizhtml.disconnect.reason", e.Reason.ToString());
        return scope.Finish(Handlers.InvokeAll(handlers, e, "disconnect", logger));
    }

    /// <param name="e">The form.</param>
    /// <param name="parent">The request that brought the form (its activity, captured where the request was handled).</param>
    public ValueTask DeliverAsync(VizFormSubmitEvent e, ActivityContext parent = default)
    {
        var handlers = _formSubmit.Snapshot;
        if (handlers.Length == 0)
        {
            return default;
        }

        var scope = HandlerScope.Begin(VizHtmlActivities.FormSubmit, ActivityKind.Internal, parent, metrics, _time, HandlerKind.FormSubmit);
        scope.Activity?.SetTag("vizhtml.page", e.Page);
        return scope.Finish(Handlers.InvokeAll(handlers, e, "form submit", logger));
    }
}

/// <summary>Handlers of named messages plus catch-all handlers, for the server's and the .NET client's events alike.</summary>
internal sealed class MessageHandlers<TEvent>(ILogger logger)
    where TEvent : class
{
    private readonly ConcurrentDictionary<string, HandlerList<Func<TEvent, ValueTask>>> _byName = new(StringComparer.Ordinal);
    private readonly HandlerList<Func<TEvent, ValueTask>> _any = new();

    public IDisposable On(string eventName, Func<TEvent, ValueTask> handler) => _byName.GetOrAdd(eventName, static _ => new()).Add(handler);

    public IDisposable OnAny(Func<TEvent, ValueTask> handler) => _any.Add(handler);

    /// <summary>Whether a handler would run for the event (a named one or a catch-all one).</summary>
    public bool HasHandlers(string eventName) =>
        _any.Snapshot.Length > 0 || (_byName.TryGetValue(eventName, out var handlers) && handlers.Snapshot.Length > 0);

    /// <summary>Runs the named handlers, then the catch-all ones, each to completion in turn.</summary>
    /// <returns>False when no handler is registered for the event (<paramref name="delivered"/> is then already complete).</returns>
    public bool TryDeliver(string eventName, TEvent e, out ValueTask delivered)
    {
        var named = _byName.TryGetValue(eventName, out var handlers) ? handlers.Snapshot : [];
        var any = _any.Snapshot;
        if (named.Length == 0 && any.Length == 0)
        {
            delivered = default;
            return false;
        }

        if (any.Length == 0)
        {
            delivered = Handlers.InvokeAll(named, e, eventName, logger);
            return true;
        }

        var first = Handlers.InvokeAll(named, e, eventName, logger);
        delivered = first.IsCompletedSuccessfully ? Handlers.InvokeAll(any, e, eventName, logger) : ThenAsync(first, any, e, eventName);
        return true;
    }

    private async ValueTask ThenAsync(ValueTask first, Func<TEvent, ValueTask>[] any, TEvent e, string eventName)
    {
        await first.ConfigureAwait(false);
        await Handlers.InvokeAll(any, e, eventName, logger).ConfigureAwait(false);
    }
}
