using VizHtml.Diagnostics;

namespace VizHtml.Connections;

/// <summary>
/// The per-connection limits, copied from the server options at start, and the message assembly limits every connection
/// of the server shares and its instruments (<see langword="null"/>: none, for connections made outside a server).
/// </summary>
internal sealed record ConnectionOptions(
    int MaxMessageBytes,
    int MaxMessagesPerSecond,
    int MaxQueuedMessages,
    long MaxQueuedBytes,
    TimeSpan SendTimeout,
    TimeSpan CloseTimeout,
    TimeProvider TimeProvider,
    MessageAssemblyLimits? Assembly = null,
    VizHtmlMetrics? Metrics = null);
