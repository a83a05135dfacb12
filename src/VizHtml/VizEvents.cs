namespace VizHtml;

/// <summary>A message event from a browser: the counterpart of the original's <c>e.event</c>, <c>e.data</c>, <c>e.client</c>.</summary>
public sealed class VizMessageEvent
{
    internal VizMessageEvent(string eventName, VizData data, VizClient client)
    {
        Event = eventName;
        Data = data;
        Client = client;
    }

    /// <summary>The event name as the page sent it (case-sensitive).</summary>
    public string Event { get; }

    /// <summary>The payload; <see cref="VizDataKind.Null"/> when the page sent none.</summary>
    public VizData Data { get; }

    /// <summary>The sender: the same instance as in its connect and disconnect events.</summary>
    public VizClient Client { get; }
}

/// <summary>A browser connected.</summary>
public sealed class VizConnectEvent
{
    internal VizConnectEvent(VizClient client) => Client = client;

    /// <summary>The new client.</summary>
    public VizClient Client { get; }
}

/// <summary>A browser left.</summary>
public sealed class VizDisconnectEvent
{
    internal VizDisconnectEvent(VizClient client, VizDisconnectReason reason, int? closeStatus, string? closeDescription)
    {
        Client = client;
        Reason = reason;
        CloseStatus = closeStatus;
        CloseDescription = closeDescription;
    }

    /// <summary>The client that left: the same instance as in its connect and message events.</summary>
    public VizClient Client { get; }

    /// <summary>Why it left.</summary>
    public VizDisconnectReason Reason { get; }

    /// <summary>The WebSocket close code, when there was a close handshake (for example 1001 or 1009).</summary>
    public int? CloseStatus { get; }

    /// <summary>The close reason text, when there was one.</summary>
    public string? CloseDescription { get; }
}
