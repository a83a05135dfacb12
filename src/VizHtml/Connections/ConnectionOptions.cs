namespace VizHtml.Connections;

/// <summary>The per-connection limits, copied from <see cref="VizHtmlOptions"/> at start.</summary>
internal sealed record ConnectionOptions(
    int MaxMessageBytes,
    int MaxMessagesPerSecond,
    int MaxQueuedMessages,
    long MaxQueuedBytes,
    TimeSpan SendTimeout,
    TimeSpan CloseTimeout,
    TimeProvider TimeProvider);
