using System.Net.WebSockets;

namespace VizHtml.Connections;

/// <summary>
/// One item in a connection's send queue. <see cref="Payload"/> may be shared by every recipient of a
/// broadcast, so nothing downstream may write to it.
/// </summary>
internal readonly struct OutboundFrame
{
    private OutboundFrame(ReadOnlyMemory<byte> payload, TaskCompletionSource<bool>? delivered, WebSocketCloseStatus? closeStatus, string? closeDescription)
    {
        Payload = payload;
        Delivered = delivered;
        CloseStatus = closeStatus;
        CloseDescription = closeDescription;
    }

    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Completed with <see langword="true"/> once written to the socket, <see langword="false"/> if the connection ended first.</summary>
    public TaskCompletionSource<bool>? Delivered { get; }

    /// <summary>Set on the frame that closes the connection after everything queued before it.</summary>
    public WebSocketCloseStatus? CloseStatus { get; }

    public string? CloseDescription { get; }

    public static OutboundFrame Message(ReadOnlyMemory<byte> payload, TaskCompletionSource<bool>? delivered = null) =>
        new(payload, delivered, null, null);

    public static OutboundFrame Close(WebSocketCloseStatus status, string description) =>
        new(ReadOnlyMemory<byte>.Empty, null, status, description);
}
