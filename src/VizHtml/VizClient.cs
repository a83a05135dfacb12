using System.Collections.Concurrent;
using System.Net.WebSockets;
using VizHtml.Connections;

namespace VizHtml;

/// <summary>
/// One connected browser: the counterpart of the original's client object (<c>.address</c>, <c>.send</c>).
/// The same instance appears in that browser's connect, message and disconnect events. Thread-safe.
/// </summary>
public sealed class VizClient
{
    private readonly VizHtmlServer _server;
    private readonly Connection _connection;
    private volatile bool _connected = true;

    internal VizClient(VizHtmlServer server, Connection connection, string id, string address, DateTimeOffset connectedAt)
    {
        _server = server;
        _connection = connection;
        Id = id;
        Address = address;
        ConnectedAt = connectedAt;
    }

    /// <summary>A unique identifier for this client, stable for its lifetime (not a secret).</summary>
    public string Id { get; }

    /// <summary>The browser's IP address as text (IPv4 for IPv4 clients, e.g. <c>127.0.0.1</c>).</summary>
    public string Address { get; }

    /// <summary>When the connection was accepted.</summary>
    public DateTimeOffset ConnectedAt { get; }

    /// <summary>Whether the client is still connected; <see langword="false"/> from the moment its disconnect is known.</summary>
    public bool IsConnected => _connected;

    /// <summary>Application state kept with the client (a user name, a role); never sent anywhere.</summary>
    public IDictionary<string, object?> Items { get; } = new ConcurrentDictionary<string, object?>(StringComparer.Ordinal);

    internal Connection Connection => _connection;

    /// <summary>Queues an event for this client and returns at once; never blocks.</summary>
    /// <param name="eventName">The event name the page listens for with <c>onevent</c>; must not start with <c>$</c>.</param>
    /// <param name="data">Anything System.Text.Json can write, or a <see cref="VizData"/>; <see langword="null"/> sends JSON null.</param>
    /// <returns><see langword="true"/> if queued; <see langword="false"/> if the client has disconnected (or, for a volatile event, its queue is full).</returns>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    /// <exception cref="NotSupportedException">System.Text.Json cannot write <paramref name="data"/>.</exception>
    public bool Send(string eventName, object? data = null) => Send(eventName, data, _server.DeliveryOf(eventName));

    /// <summary>Queues an event for this client with an explicit delivery class for this send.</summary>
    /// <returns><see langword="true"/> if queued; <see langword="false"/> if the client has disconnected or the event was dropped.</returns>
    public bool Send(string eventName, object? data, VizDelivery delivery) =>
        _connection.TryEnqueue(OutboundFrame.Message(_server.Serialize(eventName, data), delivery, eventName));

    /// <summary>Queues an event and completes when it has been written to the socket.</summary>
    /// <returns><see langword="true"/> once written; <see langword="false"/> if it never will be (the client disconnected, or a newer value of a latest-class event replaced it).</returns>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> fires first (the event may still be sent).</exception>
    public Task<bool> SendAsync(string eventName, object? data = null, CancellationToken cancellationToken = default) =>
        SendPayloadAsync(eventName, _server.Serialize(eventName, data), cancellationToken);

    internal Task<bool> SendPayloadAsync(string eventName, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var delivered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _connection.TryEnqueue(OutboundFrame.Message(payload, _server.DeliveryOf(eventName), eventName, delivered))
            ? delivered.Task.WaitAsync(cancellationToken)
            : Task.FromResult(false);
    }

    /// <summary>Closes the connection (code 1000) after the events already queued for it are written.</summary>
    /// <param name="reason">Close reason text shown to the page's <c>'close'</c> handler; at most 123 bytes of UTF-8.</param>
    public void Close(string? reason = null) =>
        _connection.RequestClose(VizDisconnectReason.ClosedByServer, WebSocketCloseStatus.NormalClosure, Truncate(reason ?? "closed by server"));

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
