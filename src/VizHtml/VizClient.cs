using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Claims;
using VizHtml.Connections;
using VizHtml.Sessions;

namespace VizHtml;

/// <summary>
/// One connected browser: the counterpart of the original's client object (<c>.address</c>, <c>.send</c>).
/// The same instance appears in that browser's connect, message and disconnect events, and, for a page using
/// <c>vizhtml.js</c>, survives a resumed connection (same <see cref="Id"/> and <see cref="Items"/>). Thread-safe.
/// </summary>
public sealed partial class VizClient
{
    private readonly Session _session;

    internal VizClient(Session session, VizClientInfo info)
    {
        _session = session;
        Id = info.Id;
        Address = info.Address;
        ConnectedAt = info.ConnectedAt;
        User = info.User;
        UserAgent = info.UserAgent;
    }

    /// <summary>A unique identifier for this client, stable for its lifetime, resumes included (not a secret).</summary>
    public string Id { get; }

    /// <summary>The browser's IP address as text (IPv4 for IPv4 clients, e.g. <c>127.0.0.1</c>).</summary>
    public string Address { get; }

    /// <summary>When the first connection was accepted.</summary>
    public DateTimeOffset ConnectedAt { get; }

    /// <summary>
    /// The user the host authenticated when the socket was opened (an ASP.NET Core app's <c>HttpContext.User</c> with
    /// <c>MapVizHtml</c>); <see langword="null"/> on the embedded server, which has no authentication of its own.
    /// </summary>
    public ClaimsPrincipal? User { get; }

    /// <summary>
    /// Whether the client is connected now. A <c>vizhtml.js</c> client whose connection was lost is not, but may resume;
    /// events sent to it meanwhile are kept for it (see <see cref="VizHtmlOptions.ResumeTimeout"/>).
    /// </summary>
    public bool IsConnected => _session.IsConnected;

    /// <summary>Application state kept with the client (a user name, a role); never sent anywhere.</summary>
    public IDictionary<string, object?> Items { get; } = new ConcurrentDictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>The browser's User-Agent header when its first socket was opened (for the status page).</summary>
    internal string? UserAgent { get; }

    internal Session Session => _session;

    /// <summary>Queues an event for this client and returns at once; never blocks.</summary>
    /// <param name="eventName">The event name the page listens for with <c>onevent</c>; must not start with <c>$</c>.</param>
    /// <param name="data">Anything System.Text.Json can write, or a <see cref="VizData"/>; <see langword="null"/> sends JSON null.</param>
    /// <returns>
    /// <see langword="true"/> if queued (for a client that is away but may resume: kept for it); <see langword="false"/> if the
    /// client has left, or a volatile event was dropped.
    /// </returns>
    /// <remarks>
    /// When the connection's writer is idle, the caller's thread hands the frame to the transport itself (it never runs
    /// user code there); otherwise the event joins the queue the writer is draining.
    /// </remarks>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    /// <exception cref="NotSupportedException">System.Text.Json cannot write <paramref name="data"/>.</exception>
    public bool Send(string eventName, object? data = null) => Send(eventName, data, _session.Hub.DeliveryOf(eventName));

    /// <summary>Queues an event for this client with an explicit delivery class for this send.</summary>
    /// <returns>As <see cref="Send(string, object?)"/>.</returns>
    public bool Send(string eventName, object? data, VizDelivery delivery)
    {
        var queued = _session.Send(OutboundMessage.Event(_session.Hub.Serialize(eventName, data), delivery, eventName), Wake.Inline);
        if (queued)
        {
            _session.Hub.Metrics?.EventsSent(1, delivery);
        }

        return queued;
    }

    /// <summary>Queues an event and completes when it has been written to the socket.</summary>
    /// <returns>
    /// <see langword="true"/> once written; <see langword="false"/> if it was not written to a socket: the client left or is away
    /// (a reliable event is still replayed if it resumes), or a newer value of a latest-class event replaced it.
    /// </returns>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> fires first (the event may still be sent).</exception>
    public Task<bool> SendAsync(string eventName, object? data = null, CancellationToken cancellationToken = default) =>
        SessionHub.SendAndTrack(_session, eventName, _session.Hub.Serialize(eventName, data), _session.Hub.DeliveryOf(eventName), Wake.Inline, cancellationToken);

    /// <summary>Closes the connection (code 1000) after the events already queued for it are written; the client does not resume.</summary>
    /// <param name="reason">Close reason text shown to the page's <c>'close'</c> handler; at most 123 bytes of UTF-8.</param>
    public void Close(string? reason = null) =>
        _session.Close(VizDisconnectReason.ClosedByServer, WebSocketCloseStatus.NormalClosure, Truncate(reason ?? "closed by server"));

    /// <inheritdoc/>
    public override string ToString() => $"{Address} ({Id})";

    private static string Truncate(string reason)
    {
        // RFC 6455 leaves 123 bytes for the reason once the 2-byte code is counted.
        while (System.Text.Encoding.UTF8.GetByteCount(reason) > 123)
        {
            reason = reason[..^1];
        }

        return reason;
    }
}
