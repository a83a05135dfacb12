namespace VizHtml;

/// <summary>
/// What happens to an event when a client cannot keep up and its send queue is full
/// (<see cref="VizHtmlOptions.MaxQueuedMessages"/> or <see cref="VizHtmlOptions.MaxQueuedBytes"/>).
/// Set per event name with <see cref="VizHtmlServer.SetDelivery"/> or per send.
/// </summary>
public enum VizDelivery
{
    /// <summary>
    /// Never dropped. A client whose queue overflows is disconnected with close code 4008 ("slow consumer"), and
    /// every other client carries on. The default.
    /// </summary>
    Reliable,

    /// <summary>
    /// Only the newest pending value of this event name is kept for each client: a newer one replaces the older one
    /// still waiting in the queue. For state sent every frame (a pose, a clock); never overflows the queue.
    /// </summary>
    Latest,

    /// <summary>Dropped for a client whose queue is full; the client stays connected.</summary>
    Volatile,
}
