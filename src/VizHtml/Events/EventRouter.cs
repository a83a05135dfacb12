using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace VizHtml.Events;

/// <summary>
/// Event name to handlers. Owns the "user code may throw" boundary: one throwing handler is logged and the
/// others still run; the connection never sees the exception.
/// </summary>
internal sealed class EventRouter(ILogger logger)
{
    private readonly ConcurrentDictionary<string, HandlerList<Action<VizMessageEvent>>> _byName = new(StringComparer.Ordinal);
    private readonly HandlerList<Action<VizMessageEvent>> _anyMessage = new();
    private readonly HandlerList<Action<VizConnectEvent>> _connect = new();
    private readonly HandlerList<Action<VizDisconnectEvent>> _disconnect = new();
    private readonly HandlerList<Action<VizFormSubmitEvent>> _formSubmit = new();

    public IDisposable OnMessage(string eventName, Action<VizMessageEvent> handler) =>
        _byName.GetOrAdd(eventName, static _ => new()).Add(handler);

    public IDisposable OnAnyMessage(Action<VizMessageEvent> handler) => _anyMessage.Add(handler);

    public IDisposable OnConnect(Action<VizConnectEvent> handler) => _connect.Add(handler);

    public IDisposable OnDisconnect(Action<VizDisconnectEvent> handler) => _disconnect.Add(handler);

    public IDisposable OnFormSubmit(Action<VizFormSubmitEvent> handler) => _formSubmit.Add(handler);

    public void Deliver(VizFormSubmitEvent e) => Invoke(_formSubmit.Snapshot, e, "form submit");

    public void Deliver(VizMessageEvent e)
    {
        var delivered = false;
        if (_byName.TryGetValue(e.Event, out var handlers))
        {
            delivered = Invoke(handlers.Snapshot, e, e.Event);
        }

        delivered |= Invoke(_anyMessage.Snapshot, e, e.Event);
        if (!delivered)
        {
            logger.LogDebug("No handler for event {Event} from {Address}", e.Event, e.Client.Address);
        }
    }

    public void Deliver(VizConnectEvent e) => Invoke(_connect.Snapshot, e, "connect");

    public void Deliver(VizDisconnectEvent e) => Invoke(_disconnect.Snapshot, e, "disconnect");

    private bool Invoke<T>(Action<T>[] handlers, T e, string what)
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
