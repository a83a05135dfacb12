using System.Net.WebSockets;

namespace VizHtml.Connections;

/// <summary>
/// One item in a connection's send queue. <see cref="Payload"/> may be shared by every recipient of a
/// broadcast, so nothing downstream may write to it.
/// </summary>
internal readonly struct OutboundFrame
{
    private OutboundFrame(ReadOnlyMemory<byte> payload, VizDelivery delivery, string? latestKey, TaskCompletionSource<bool>? delivered, WebSocketCloseStatus? closeStatus, string? closeDescription, long seq = 0, bool startsBatching = false)
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

    /// <summary>The per-client sequence number written in front of the shared payload; 0 for an unsequenced frame.</summary>
    public long Seq { get; }

    public OutboundFrame WithSeq(long seq) => new(Payload, Delivery, LatestKey, Delivered, CloseStatus, CloseDescription, seq, StartsBatching);

    /// <summary>
    /// Set on the <c>$welcome</c> to a client that announced batching: it goes in a frame of its own, and the frames after
    /// it may carry several envelopes.
    /// </summary>
    public bool StartsBatching { get; }

    public OutboundFrame ThatStartsBatching() => new(Payload, Delivery, LatestKey, Delivered, CloseStatus, CloseDescription, Seq, startsBatching: true);

    public VizDelivery Delivery { get; }

    /// <summary>For <see cref="VizDelivery.Latest"/>: the event name whose newest pending value replaces older ones.</summary>
    public string? LatestKey { get; }

    /// <summary>Completed with <see langword="true"/> once written to the socket, <see langword="false"/> if it never will be.</summary>
    public TaskCompletionSource<bool>? Delivered { get; }

    /// <summary>Set on the frame that closes the connection after everything queued before it.</summary>
    public WebSocketCloseStatus? CloseStatus { get; }

    public string? CloseDescription { get; }

    public static OutboundFrame Message(ReadOnlyMemory<byte> payload, TaskCompletionSource<bool>? delivered = null) =>
        new(payload, VizDelivery.Reliable, null, delivered, null, null);

    public static OutboundFrame Message(ReadOnlyMemory<byte> payload, VizDelivery delivery, string eventName, TaskCompletionSource<bool>? delivered = null) =>
        new(payload, delivery, delivery == VizDelivery.Latest ? eventName : null, delivered, null, null);

    public static OutboundFrame Close(WebSocketCloseStatus status, string description) =>
        new(ReadOnlyMemory<byte>.Empty, VizDelivery.Reliable, null, null, status, description);
}
