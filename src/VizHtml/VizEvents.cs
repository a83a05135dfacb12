namespace VizHtml;

/// <summary>A message event from a browser: the counterpart of the original's <c>e.event</c>, <c>e.data</c>, <c>e.client</c>.</summary>
public sealed class VizMessageEvent
{
    private static readonly ReadOnlyMemory<byte>[] NoParts = [];

    internal VizMessageEvent(string eventName, VizData data, VizClient client, IReadOnlyList<ReadOnlyMemory<byte>>? parts = null)
    {
        Event = eventName;
        Data = data;
        Client = client;
        Parts = parts ?? NoParts;
    }

    /// <summary>The event name as the page sent it (case-sensitive).</summary>
    public string Event { get; }

    /// <summary>The payload; <see cref="VizDataKind.Null"/> when the page sent none.</summary>
    public VizData Data { get; }

    /// <summary>The sender: the same instance as in its connect and disconnect events.</summary>
    public VizClient Client { get; }

    /// <summary>
    /// The binary parts of a binary message, in order (empty for a text message): what the page sent as an
    /// <c>ArrayBuffer</c>, typed array, <c>DataView</c> or <c>Blob</c>. In <see cref="Data"/>, part i stands as the object
    /// <c>{"$bin": i}</c>; <see cref="GetBytes"/> resolves one, and <c>OnMessage&lt;T&gt;</c> binds parts to <c>byte[]</c>,
    /// <see cref="ReadOnlyMemory{T}"/> and <see cref="Memory{T}"/> members. Each part is an array of its own, the handler's to keep.
    /// </summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Parts { get; }

    /// <summary>
    /// The bytes <paramref name="value"/> (a part of <see cref="Data"/>, or <see cref="Data"/> itself) stands for: a binary
    /// part's placeholder <c>{"$bin": i}</c> gives part i without a copy; a string is read as base64, the form a client
    /// without binary sends bytes in.
    /// </summary>
    /// <example><c>var image = e.GetBytes(e.Data["image"]);</c></example>
    /// <exception cref="FormatException">When <paramref name="value"/> is neither a placeholder of one of <see cref="Parts"/> nor base64 text.</exception>
    public ReadOnlyMemory<byte> GetBytes(VizData value) => Protocol.BinaryJson.GetBytes(value, Parts, Event);
}

/// <summary>A browser connected.</summary>
public sealed class VizConnectEvent
{
    internal VizConnectEvent(VizClient client, bool resumed, bool recovered)
    {
        Client = client;
        Resumed = resumed;
        Recovered = recovered;
    }

    /// <summary>The client; after a resume, the same instance as before.</summary>
    public VizClient Client { get; }

    /// <summary>Whether this is a client coming back on a new connection (a page using <c>vizhtml.js</c> after a network drop).</summary>
    public bool Resumed { get; }

    /// <summary>
    /// For a resume: whether every event it missed was replayed. When <see langword="false"/> some were lost (the gap was
    /// longer than the replay buffer keeps): send the page a fresh snapshot of the state. Always <see langword="false"/> for a new client.
    /// </summary>
    public bool Recovered { get; }
}

/// <summary>A browser left.</summary>
public sealed class VizDisconnectEvent
{
    internal VizDisconnectEvent(VizClient client, VizDisconnectReason reason, int? closeStatus, string? closeDescription, bool canResume = false)
    {
        CanResume = canResume;
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

    /// <summary>
    /// Whether the client may come back within <see cref="VizHtmlOptions.ResumeTimeout"/> (a <c>vizhtml.js</c> page whose connection
    /// was lost). Events sent to it meanwhile are kept and replayed; a later connect event has <see cref="VizConnectEvent.Resumed"/> set.
    /// </summary>
    public bool CanResume { get; }
}
