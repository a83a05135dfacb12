using System.Collections.Concurrent;
using System.Net.WebSockets;
using VizHtml.Connections;

namespace VizHtml;

/// <summary>
/// One connected browser: the counterpart of the original's client object (<c>.address</c>, <c>.send</c>).
/// The same instance appears in that browser's connect, message and disconnect events, and, for a page using
/// <c>vizhtml.js</c>, survives a resumed connection (same <see cref="Id"/> and <see cref="Items"/>). Thread-safe.
/// </summary>
public sealed class VizClient
{
    private readonly VizHtmlServer _server;
    private volatile Connection _connection;
    private volatile bool _connected = true;

    internal VizClient(VizHtmlServer server, Connection connection, string id, string address, DateTimeOffset connectedAt, Session? session = null)
    {
        _server = server;
        _connection = connection;
        Id = id;
        Address = address;
        ConnectedAt = connectedAt;
        Session = session;
    }

    /// <summary>A unique identifier for this client, stable for its lifetime, resumes included (not a secret).</summary>
    public string Id { get; }

    /// <summary>The browser's IP address as text (IPv4 for IPv4 clients, e.g. <c>127.0.0.1</c>).</summary>
    public string Address { get; }

    /// <summary>When the first connection was accepted.</summary>
    public DateTimeOffset ConnectedAt { get; }

    /// <summary>
    /// Whether the client is connected now. A <c>vizhtml.js</c> client whose connection was lost is not, but may resume;
    /// events sent to it meanwhile are kept for it (see <see cref="VizHtmlOptions.ResumeTimeout"/>).
    /// </summary>
    public bool IsConnected => _connected;

    /// <summary>Application state kept with the client (a user name, a role); never sent anywhere.</summary>
    public IDictionary<string, object?> Items { get; } = new ConcurrentDictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>The current connection, or the last one while the client is away.</summary>
    internal Connection Connection => _connection;

    /// <summary>Sequencing and replay state; null for a client that speaks protocol version 1.</summary>
    internal Session? Session { get; }

    /// <summary>Queues an event for this client and returns at once; never blocks.</summary>
    /// <param name="eventName">The event name the page listens for with <c>onevent</c>; must not start with <c>$</c>.</param>
    /// <param name="data">Anything System.Text.Json can write, or a <see cref="VizData"/>; <see langword="null"/> sends JSON null.</param>
    /// <returns>
    /// <see langword="true"/> if queued (for a client that is away but may resume: kept for it); <see langword="false"/> if the
    /// client has left, or a volatile event was dropped.
    /// </returns>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    /// <exception cref="NotSupportedException">System.Text.Json cannot write <paramref name="data"/>.</exception>
    public bool Send(string eventName, object? data = null) => Send(eventName, data, _server.DeliveryOf(eventName));

    /// <summary>Queues an event for this client with an explicit delivery class for this send.</summary>
    /// <returns>As <see cref="Send(string, object?)"/>.</returns>
    public bool Send(string eventName, object? data, VizDelivery delivery) =>
        Enqueue(OutboundFrame.Message(_server.Serialize(eventName, data), delivery, eventName));

    /// <summary>Queues an event and completes when it has been written to the socket.</summary>
    /// <returns>
    /// <see langword="true"/> once written; <see langword="false"/> if it was not written to a socket: the client left or is away
    /// (a reliable event is still replayed if it resumes), or a newer value of a latest-class event replaced it.
    /// </returns>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> fires first (the event may still be sent).</exception>
    public Task<bool> SendAsync(string eventName, object? data = null, CancellationToken cancellationToken = default) =>
        SendPayloadAsync(eventName, _server.Serialize(eventName, data), cancellationToken);

    internal Task<bool> SendPayloadAsync(string eventName, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var delivered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!Enqueue(OutboundFrame.Message(payload, _server.DeliveryOf(eventName), eventName, delivered)))
        {
            delivered.TrySetResult(false);
        }

        return delivered.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Closes the connection (code 1000) after the events already queued for it are written; the client does not resume.</summary>
    /// <param name="reason">Close reason text shown to the page's <c>'close'</c> handler; at most 123 bytes of UTF-8.</param>
    public void Close(string? reason = null)
    {
        _server.EndSession(this);
        _connection.RequestClose(VizDisconnectReason.ClosedByServer, WebSocketCloseStatus.NormalClosure, Truncate(reason ?? "closed by server"));
    }

    /// <summary>
    /// Sends one frame, numbering and keeping reliable events for a version 2 client under its session lock, so that
    /// sequence order, replay order and queue order are the same.
    /// </summary>
    internal bool Enqueue(OutboundFrame frame)
    {
        if (Session is not { } session)
        {
            return _connection.TryEnqueue(frame);
        }

        lock (session.Gate)
        {
            switch (frame.Delivery)
            {
                case VizDelivery.Reliable:
                    frame = frame.WithSeq(++session.LastSent);
                    session.Replay.Append(frame.Seq, frame.Payload);
                    break;
                case VizDelivery.Latest:
                    session.LatestValues[frame.LatestKey!] = frame.Payload;
                    break;
            }

            if (!_connected)
            {
                frame.Delivered?.TrySetResult(false);

                // Away: a reliable event waits in the replay buffer, a latest value in LatestValues; a volatile one is gone.
                return frame.Delivery != VizDelivery.Volatile && session.DetachedAt is not null;
            }

            // A reliable event the queue refuses (slow consumer) stays in the replay buffer for the resume.
            return _connection.TryEnqueue(frame) || frame.Delivery == VizDelivery.Reliable;
        }
    }

    /// <summary>Puts the client on a new connection (a resume); call under the session lock.</summary>
    internal void Attach(Connection connection)
    {
        _connection = connection;
        connection.Owner = this;
        _connected = true;
    }

    internal void MarkDisconnected() => _connected = false;

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
