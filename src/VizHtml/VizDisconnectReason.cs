namespace VizHtml;

/// <summary>Why a client left. The first recorded reason wins.</summary>
public enum VizDisconnectReason
{
    /// <summary>The browser closed the socket (page closed or navigated away, <c>socket.close()</c>).</summary>
    ClientClosed,

    /// <summary>The application called <see cref="VizClient.Close(string?)"/>.</summary>
    ClosedByServer,

    /// <summary>The server is stopping (close code 1001).</summary>
    ServerStopping,

    /// <summary>The connection broke without a close handshake (network drop, TCP reset, tab killed).</summary>
    ConnectionLost,

    /// <summary>The client broke the protocol (for example a binary frame or an oversized message); the close code says which rule.</summary>
    ProtocolViolation,

    /// <summary>
    /// The client could not keep up: its send queue overflowed with <see cref="VizDelivery.Reliable"/> events (close code
    /// 4008) or one write took longer than <see cref="VizHtmlOptions.SendTimeout"/>.
    /// </summary>
    SlowConsumer,

    /// <summary>
    /// The server had no room to receive the client's message (close code 1013, try again later): messages still arriving
    /// from its address, or from all clients, held <see cref="VizHtmlOptions.MaxAssemblyBytesPerAddress"/> or
    /// <see cref="VizHtmlOptions.MaxAssemblyBytes"/>.
    /// </summary>
    ServerBusy,
}
