using System.Net.WebSockets;

namespace VizHtml.Connections;

/// <summary>
/// One item in a connection's outbound queue: a serialized envelope (or the close that ends the queue). <see cref="Payload"/>
/// may be shared by every recipient of a broadcast, so nothing downstream may write to it.
/// </summary>
internal readonly struct OutboundMessage
{
    private OutboundMessage(ReadOnlyMemory<byte> payload, VizDelivery delivery, string? latestKey, TaskCompletionSource<bool>? delivered, WebSocketCloseStatus? closeStatus, string? closeDescription, long seq = 0, bool startsBatching = false)
    {
        Seq = seq;
        StartsBatching = startsBatching;
        Payload = payload;
        Delivery = delivery;
        LatestKey = latestKey;
        Delivered = delivered;
        CloseStatus = closeStatus;
        CloseDescription = closeDescription;
    }

    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>The per-client sequence number written in front of the shared payload; 0 for an unnumbered message.</summary>
    public long Seq { get; }

    /// <summary>The same message carrying another form of its payload (a binary event's text form, for a client without binary).</summary>
    public OutboundMessage WithPayload(ReadOnlyMemory<byte> payload) => new(payload, Delivery, LatestKey, Delivered, CloseStatus, CloseDescription, Seq, StartsBatching);

    public OutboundMessage WithSeq(long seq) => new(Payload, Delivery, LatestKey, Delivered, CloseStatus, CloseDescription, seq, StartsBatching);

    /// <summary>
    /// Set on the <c>$welcome</c> to a client that announced batching: it goes in a frame of its own, and the frames after
    /// it may carry several envelopes.
    /// </summary>
    public bool StartsBatching { get; }

    public OutboundMessage ThatStartsBatching() => new(Payload, Delivery, LatestKey, Delivered, CloseStatus, CloseDescription, Seq, startsBatching: true);

    public VizDelivery Delivery { get; }

    /// <summary>For <see cref="VizDelivery.Latest"/>: the event name whose newest pending value replaces older ones.</summary>
    public string? LatestKey { get; }

    /// <summary>Completed with <see langword="true"/> once written to the socket, <see langword="false"/> if it never will be.</summary>
    public TaskCompletionSource<bool>? Delivered { get; }

    /// <summary>Set on the item that closes the connection after everything queued before it.</summary>
    public WebSocketCloseStatus? CloseStatus { get; }

    public string? CloseDescription { get; }

    public static OutboundMessage Control(ReadOnlyMemory<byte> payload, TaskCompletionSource<bool>? delivered = null) =>
        new(payload, VizDelivery.Reliable, null, delivered, null, null);

    public static OutboundMessage Event(ReadOnlyMemory<byte> payload, VizDelivery delivery, string eventName, TaskCompletionSource<bool>? delivered = null) =>
        new(payload, delivery, delivery == VizDelivery.Latest ? eventName : null, delivered, null, null);

    public static OutboundMessage Close(WebSocketCloseStatus status, string description) =>
        new(ReadOnlyMemory<byte>.Empty, VizDelivery.Reliable, null, null, status, description);
}
