namespace VizHtml.Connections;

/// <summary>The per-connection limits, copied from the server options at start.</summary>
internal sealed record ConnectionOptions(
    int MaxMessageBytes,
    int MaxMessagesPerSecond,
    int MaxQueuedMessages,
    long MaxQueuedBytes,
    TimeSpan SendTimeout,
    TimeSpan CloseTimeout,
    TimeProvider TimeProvider);
