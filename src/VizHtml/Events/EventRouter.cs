using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace VizHtml.Events;

/// <summary>
/// Event name to handlers. Owns the "user code may throw" boundary: one throwing handler is logged and the
/// others still run; the connection never sees the exception.
/// </summary>
internal sealed class EventRouter(ILogger logger)
{
    private readonly MessageHandlers<VizMessageEvent> _messages = new(logger);
    private readonly HandlerList<Action<VizConnectEvent>> _connect = new();
    private readonly HandlerList<Action<VizDisconnectEvent>> _disconnect = new();
    private readonly HandlerList<Action<VizFormSubmitEvent>> _formSubmit = new();

    public IDisposable OnMessage(string eventName, Action<VizMessageEvent> handler) => _messages.On(eventName, handler);

    public IDisposable OnAnyMessage(Action<VizMessageEvent> handler) => _messages.OnAny(handler);

    public IDisposable OnConnect(Action<VizConnectEvent> handler) => _connect.Add(handler);

    public IDisposable OnDisconnect(Action<VizDisconnectEvent> handler) => _disconnect.Add(handler);

    public IDisposable OnFormSubmit(Action<VizFormSubmitEvent> handler) => _formSubmit.Add(handler);

    public void Deliver(VizMessageEvent e)
    {
        if (!_messages.Deliver(e.Event, e))
        {
            logger.LogDebug("No handler for event {Event} from {Address}", e.Event, e.Client.Address);
        }
    }

    public void Deliver(VizConnectEvent e) => Handlers.InvokeAll(_connect.Snapshot, e, "connect", logger);

    public void Deliver(VizDisconnectEvent e) => Handlers.InvokeAll(_disconnect.Snapshot, e, "disconnect", logger);

    public void Deliver(VizFormSubmitEvent e) => Handlers.InvokeAll(_formSubmit.Snapshot, e, "form submit", logger);
}

/// <summary>Handlers of named messages plus catch-all handlers, for the server's and the .NET client's events alike.</summary>
internal sealed class MessageHandlers<TEvent>(ILogger logger)
    where TEvent : class
{
    private readonly ConcurrentDictionary<string, HandlerList<Action<TEvent>>> _byName = new(StringComparer.Ordinal);
    private readonly HandlerList<Action<TEvent>> _any = new();

    public IDisposable On(string eventName, Action<TEvent> handler) => _byName.GetOrAdd(eventName, static _ => new()).Add(handler);

    public IDisposable OnAny(Action<TEvent> handler) => _any.Add(handler);

    /// <summary>Runs the named handlers, then the catch-all ones; returns whether any ran.</summary>
    public bool Deliver(string eventName, TEvent e)
    {
        var delivered = _byName.TryGetValue(eventName, out var handlers) && Handlers.InvokeAll(handlers.Snapshot, e, eventName, logger);
        return Handlers.InvokeAll(_any.Snapshot, e, eventName, logger) | delivered;
    }
}

internal static class Handlers
{
    /// <summary>Calls each handler; one that throws is logged and the rest still run.</summary>
    public static bool InvokeAll<T>(Action<T>[] handlers, T e, string what, ILogger logger)
    {
        foreach (var handler in handlers)
        {
            try
            {
                handler(e);
            }
#pragma warning disable CA1031 // The boundary that keeps user exceptions away from the connection and the other handlers.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                logger.LogError(ex, "A handler for {Event} threw; the connection and other handlers carry on", what);
            }
        }

        return handlers.Length > 0;
    }
}
