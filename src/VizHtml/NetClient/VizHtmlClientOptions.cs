using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace VizHtml;

/// <summary>Settings for a <see cref="VizHtmlClient"/>; read when the client is created.</summary>
public sealed class VizHtmlClientOptions
{
    /// <summary>The first reconnect delay; it doubles per failed attempt up to <see cref="MaxReconnectDelay"/>, each randomized to 50–100 %.</summary>
    /// <value>500 ms.</value>
    public TimeSpan InitialReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between reconnect attempts.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many sent events may wait unacknowledged (sent while offline included); past it the oldest are dropped and <see cref="VizHtmlClient.DroppedSends"/> counts them.</summary>
    /// <value>1000.</value>
    public int MaxPendingSends { get; set; } = 1000;

    /// <summary>How long an unacknowledged send is kept for resending.</summary>
    /// <value>2 minutes.</value>
    public TimeSpan MaxPendingAge { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Whether sends made (or not yet acknowledged) before the server restarted go to the new run: a welcome with another
    /// <c>epoch</c> than the last one. By default they are stale input for a program that started over, so they are dropped and
    /// counted in <see cref="VizClientConnectionEvent.Dropped"/>. A session lost while the server ran on (expired, or
    /// forgotten to stay within its limits) keeps them either way.
    /// </summary>
    /// <value><see langword="false"/>: dropped.</value>
    public bool KeepPendingAcrossRestart { get; set; }

    /// <summary>
    /// How long <see cref="VizHtmlClient.StartAsync"/> keeps trying to reach the server before it gives up with a
    /// <see cref="VizHtmlConnectTimeoutException"/> and closes the client; <see cref="Timeout.InfiniteTimeSpan"/> to retry
    /// until the server comes or the call is cancelled. Later reconnects are not limited by it.
    /// </summary>
    /// <value><see cref="Timeout.InfiniteTimeSpan"/>.</value>
    public TimeSpan ConnectTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>How long <see cref="VizHtmlClient.RequestAsync{TResponse}"/> waits for the answer when the call names no timeout.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The server's access key, if it has one.</summary>
    /// <value><see langword="null"/>.</value>
    public string? AccessKey { get; set; }

    /// <summary>How sent data is written and received data bound.</summary>
    /// <value><see cref="JsonSerializerDefaults.Web"/>.</value>
    public JsonSerializerOptions? JsonSerializerOptions { get; set; }

    /// <summary>Where the client logs (handler exceptions, each failed connection attempt with its reason, reconnects).</summary>
    /// <value><see langword="null"/>: nowhere.</value>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>A hook to adjust each <see cref="ClientWebSocket"/> before it connects (headers, certificates, proxy).</summary>
    /// <value><see langword="null"/>.</value>
    public Action<ClientWebSocketOptions>? ConfigureSocket { get; set; }
}
