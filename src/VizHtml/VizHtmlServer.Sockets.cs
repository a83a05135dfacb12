using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using VizHtml.Connections;
using VizHtml.Protocol;

namespace VizHtml;

/// <summary>
/// The socket half: one connection's life, and for protocol version 2 clients (<c>vizhtml.js</c>) the sessions that
/// outlive connections: sequence numbers, acknowledgements, resume with replay, heartbeats.
/// </summary>
public sealed partial class VizHtmlServer
{
    // Version 2 sessions by their current secret token (connected or away), and the away ones by client id.
    private readonly ConcurrentDictionary<string, VizClient> _sessionsByToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, VizClient> _away = new(StringComparer.Ordinal);
    private readonly string _epoch = NewClientId();

    /// <summary>How many version 2 clients are away and may still resume (for tests and diagnostics).</summary>
    internal int AwayCount => _away.Count;

    private async Task RunSocketAsync(HttpContext context, string address)
    {
        // A version 2 client says so in the URL and then sends $hello: which session it joins is known only then.
        var speaksV2 = context.Request.Query["v"] == "2";
        var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var connection = new Connection(socket, _connectionOptions, _envelopeReader, _logger);
        if (speaksV2)
        {
            connection.RemoteAddress = address;
            connection.RequestCloseUnlessOwnedAfter(_options.HandshakeTimeout, "expected $hello");
        }
        else
        {
            var client = new VizClient(this, connection, NewClientId(), address, _options.TimeProvider.GetUtcNow());
            connection.Owner = client;
            _targets.Add(client);
            _registry.Add(client);
            _logger.LogDebug("Client {Client} connected", client);
            _dispatcher.Post(() => _router.Deliver(new VizConnectEvent(client, resumed: false, recovered: false)));
        }

        try
        {
            await connection.RunAsync(_onEnvelope, context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            OnConnectionEnded(connection);
        }
    }

    private void OnConnectionEnded(Connection connection)
    {
        // A connection that never said $hello, or one a resumed connection replaced, has nothing to report.
        if (connection.Owner is not { } client || connection.Superseded)
        {
            return;
        }

        var reason = connection.CloseReason;
        var canResume = false;
        if (client.Session is { } session)
        {
            lock (session.Gate)
            {
                if (!ReferenceEquals(client.Connection, connection))
                {
                    return;
                }

                // A lost or too-slow connection may come back; a close by either side, a protocol violation or a stop may not.
                canResume = _accepting && _sessionsByToken.ContainsKey(session.Token)
                    && (reason is VizDisconnectReason.ConnectionLost or VizDisconnectReason.SlowConsumer
                        || (reason == VizDisconnectReason.ClientClosed && (int?)connection.CloseStatus == Envelope.ResumableCloseStatus));
                client.MarkDisconnected();
                if (canResume)
                {
                    session.DetachedAt = _options.TimeProvider.GetTimestamp();
                    _away[client.Id] = client;
                }
                else
                {
                    _sessionsByToken.TryRemove(session.Token, out _);
                    _targets.Remove(client);
                }
            }
        }
        else
        {
            client.MarkDisconnected();
            _targets.Remove(client);
        }

        _registry.Remove(client);
        var e = new VizDisconnectEvent(client, reason, (int?)connection.CloseStatus, connection.CloseDescription, canResume);
        _logger.LogDebug("Client {Client} disconnected: {Reason}", client, e.Reason);
        _dispatcher.Post(() => _router.Deliver(e));
    }

    private void OnEnvelope(Connection connection, InboundEnvelope envelope)
    {
        if (envelope.IsControl)
        {
            OnControl(connection, envelope);
            return;
        }

        if (connection.Owner is not { } client)
        {
            connection.TryEnqueue(OutboundFrame.Message(EnvelopeSerializer.SerializeError(ProtocolErrors.InvalidEnvelope, "send $hello first")));
            return;
        }

        // What this message causes to be written to its own client (the $ack, and the answer of a handler the dispatcher
        // runs right here when idle) leaves together, written from this thread once the message is handled.
        using var wakes = SendQueue.DeferWakes(inline: true);
        if (client.Session is { } session && envelope.Seq > 0)
        {
            lock (session.Gate)
            {
                // A replayed event the application already has: acknowledged again, not delivered twice.
                var duplicate = envelope.Seq <= session.LastReceived;
                if (!duplicate)
                {
                    session.LastReceived = envelope.Seq;
                }

                connection.Acknowledge(session.LastReceived);
                if (duplicate)
                {
                    return;
                }
            }
        }

        var e = new VizMessageEvent(envelope.EventName!, VizData.FromNode(envelope.Data), client);
        _dispatcher.PostFromReader(() => _router.Deliver(e));
    }

    private void OnControl(Connection connection, InboundEnvelope envelope)
    {
        switch (envelope.EventName)
        {
            case Envelope.AckEvent when connection.Owner?.Session is { } session && (envelope.AckSeq >= 0 ? envelope.AckSeq : ReadLong(envelope.Data, "seq")) is { } seq:
                lock (session.Gate)
                {
                    session.Replay.Acknowledge(Math.Min(seq, session.LastSent));
                }

                break;
            case Envelope.HelloEvent when connection.Owner is null && connection.RemoteAddress is not null:
                OnHello(connection, envelope.Data);
                break;
            default:
                connection.TryEnqueue(OutboundFrame.Message(EnvelopeSerializer.SerializeError(ProtocolErrors.InvalidEnvelope, $"unexpected {envelope.EventName}")));
                break;
        }
    }

    /// <summary>
    /// Starts a session, or resumes one: the same client object comes back, the events it missed are replayed after the
    /// welcome (or, when they are no longer all kept, the welcome says <c>recovered: false</c> so the page resyncs).
    /// </summary>
    private void OnHello(Connection connection, JsonNode? data)
    {
        var token = (data as JsonObject)?["token"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
        var lastSeq = ReadLong(data, "lastSeq") ?? 0;
        var batch = (data as JsonObject)?["batch"] is JsonValue b && b.TryGetValue<bool>(out var wantsBatch) && wantsBatch;
        VizClient client;
        bool resumed = false, recovered = false;
        Connection? replaced = null;
        if (token is not null && _sessionsByToken.TryRemove(token, out var existing) && existing.Session is { } session)
        {
            client = existing;
            resumed = true;
            lock (session.Gate)
            {
                recovered = session.Replay.CanReplayFrom(lastSeq, session.LastSent);
                if (recovered)
                {
                    // The client has everything up to lastSeq: that much needs no keeping.
                    session.Replay.Acknowledge(lastSeq);
                }

                if (client.IsConnected && !ReferenceEquals(client.Connection, connection))
                {
                    replaced = client.Connection;
                }

                client.Attach(connection);
                session.DetachedAt = null;
                _sessionsByToken[session.RotateToken()] = client;
                connection.TryEnqueue(WelcomeFrame(client, resumed, recovered, batch), withinBounds: false);
                if (recovered)
                {
                    foreach (var (seq, payload) in session.Replay.After(lastSeq))
                    {
                        connection.TryEnqueue(OutboundFrame.Message(payload).WithSeq(seq), withinBounds: false);
                    }
                }
                else
                {
                    // What is kept no longer forms an unbroken run: start afresh after the last number sent.
                    session.Replay.Acknowledge(session.LastSent);
                }

                foreach (var (name, payload) in session.LatestValues)
                {
                    connection.TryEnqueue(OutboundFrame.Message(payload, VizDelivery.Latest, name));
                }
            }

            _away.TryRemove(client.Id, out _);
        }
        else
        {
            var replay = new ReplayBuffer(_options.ReplayBufferMessages, _options.ReplayBufferBytes, _options.ResumeTimeout, _options.TimeProvider);
            client = new VizClient(this, connection, NewClientId(), connection.RemoteAddress!, _options.TimeProvider.GetUtcNow(), new Session(replay));
            connection.Owner = client;
            _sessionsByToken[client.Session!.Token] = client;
            _targets.Add(client);
            lock (client.Session.Gate)
            {
                connection.TryEnqueue(WelcomeFrame(client, resumed: false, recovered: false, batch), withinBounds: false);
            }
        }

        if (replaced is not null)
        {
            // The client came back before the server noticed it had gone: the old socket ends here, reported before the resume.
            replaced.Supersede();
            var lost = new VizDisconnectEvent(client, VizDisconnectReason.ConnectionLost, null, "replaced by a resumed connection", canResume: true);
            _dispatcher.Post(() => _router.Deliver(lost));
        }
        else
        {
            _registry.Add(client);
        }

        _logger.LogDebug("Client {Client} {How}", client, resumed ? recovered ? "resumed" : "resumed without recovery" : "connected");
        _dispatcher.Post(() => _router.Deliver(new VizConnectEvent(client, resumed, recovered)));
    }

    /// <summary>Ends a client's session for good (the application closed it).</summary>
    internal void EndSession(VizClient client)
    {
        if (client.Session is { } session)
        {
            lock (session.Gate)
            {
                _sessionsByToken.TryRemove(session.Token, out _);
                session.DetachedAt = null;
            }

            _away.TryRemove(client.Id, out _);
        }

        _targets.Remove(client);
    }

    /// <summary>Once a second: forget sessions away for longer than the resume timeout, and send heartbeats on quiet connections.</summary>
    private async Task RunMaintenanceAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = _options.TimeProvider.GetTimestamp();
                foreach (var (id, client) in _away)
                {
                    var session = client.Session!;
                    lock (session.Gate)
                    {
                        if (session.DetachedAt is { } since && _options.TimeProvider.GetElapsedTime(since, now) > _options.ResumeTimeout)
                        {
                            _sessionsByToken.TryRemove(session.Token, out _);
                            _away.TryRemove(id, out _);
                            _targets.Remove(client);
                            session.DetachedAt = null;
                        }
                    }
                }

                foreach (var client in _registry.Current)
                {
                    client.Connection.TrimIdleBuffers();
                    if (client.Session is not null && _options.TimeProvider.GetElapsedTime(client.Connection.LastWriteTimestamp, now) >= _options.HeartbeatInterval)
                    {
                        client.Connection.TryEnqueue(OutboundFrame.Message(HeartbeatPayload));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static readonly byte[] HeartbeatPayload = """{"event":"$heartbeat","data":null}"""u8.ToArray();

    private OutboundFrame WelcomeFrame(VizClient client, bool resumed, bool recovered, bool batch)
    {
        var frame = OutboundFrame.Message(Welcome(client, resumed, recovered, batch));
        return batch ? frame.ThatStartsBatching() : frame;
    }

    private byte[] Welcome(VizClient client, bool resumed, bool recovered, bool batch) => ControlMessage(Envelope.WelcomeEvent, new JsonObject
    {
        ["v"] = 2,
        ["id"] = client.Id,
        ["token"] = client.Session!.Token,
        ["epoch"] = _epoch,
        ["resumed"] = resumed,
        ["recovered"] = recovered,
        ["lastSeq"] = client.Session.LastReceived,
        ["sentSeq"] = client.Session.LastSent,
        ["heartbeatMs"] = (long)_options.HeartbeatInterval.TotalMilliseconds,
        ["batch"] = batch,
    });

    private static byte[] ControlMessage(string eventName, JsonNode data) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["event"] = eventName, ["data"] = data });

    private static long? ReadLong(JsonNode? data, string name) =>
        (data as JsonObject)?[name] is JsonValue v && v.TryGetValue<long>(out var n) && n >= 0 ? n
        : (data as JsonObject)?[name] is JsonValue e && e.TryGetValue<JsonElement>(out var el) && el.TryGetInt64(out var m) && m >= 0 ? m
        : null;
}
