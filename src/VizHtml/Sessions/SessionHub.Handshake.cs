using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using VizHtml.Connections;
using VizHtml.Diagnostics;
using VizHtml.Protocol;

namespace VizHtml.Sessions;

/// <summary>The version 2 handshake: <c>$hello</c> starts a session or resumes one, <c>$welcome</c> answers.</summary>
internal sealed partial class SessionHub
{
    /// <summary>
    /// Starts a session, or resumes one: the same client object comes back, the events it missed are replayed after the
    /// welcome (or, when they are no longer all kept, the welcome says <c>recovered: false</c> so the page resyncs).
    /// </summary>
    private void OnHello(Connection connection, SocketPeer peer, JsonNode? data)
    {
        var token = (data as JsonObject)?["token"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
        var lastSeq = Envelope.ReadSeq(data, "lastSeq") ?? 0;
        var batch = (data as JsonObject)?["batch"] is JsonValue b && b.TryGetValue<bool>(out var wantsBatch) && wantsBatch;
        var requests = (data as JsonObject)?[RequestEnvelope.Capability] is JsonValue r && r.TryGetValue<bool>(out var wantsRequests) && wantsRequests;

        // Granted to whoever asks; set before the welcome (and a resume's replay) is queued, which it decides the form of.
        connection.AcceptsBinary = (data as JsonObject)?["binary"] is JsonValue bin && bin.TryGetValue<bool>(out var wantsBinary) && wantsBinary;
        Session session;
        bool resumed = false, recovered = false;
        Connection? replaced = null;
        Session? existing = null;
        if (token is not null && _store.TryTake(token, out existing) && !SameUser(existing.Client.User, peer.User))
        {
            // A token presented by someone else signed in (or by nobody, for a signed-in user's session) resumes nothing: the
            // session stays where it was for its owner, and this socket starts its own.
            _logger.LogWarning("A resume token of {Client} was presented by another user from {Address}; a new session was started", existing.Client, peer.Address);
            _store.Add(existing);
            existing = null;
        }

        lock (_membership)
        {
            // One step with the broadcasts: a returning client takes what the log kept for it and is connected again, so
            // every later broadcast finds it connected.
            if (existing is not null)
            {
                // Back before the welcome is queued, so whoever sees the welcome finds the session no longer away.
                _store.SetAway(existing, away: false);
                existing.GrantsRequests = requests;
                (resumed, recovered, replaced) = existing.Resume(connection, lastSeq, recovered => Welcome(existing, resumed: true, recovered, batch));
            }

            if (resumed)
            {
                session = existing!;
                _store.Add(session);
            }
            else
            {
                // No token, an unknown one, or a session that expired in the same instant: a new session.
                var replay = new ReplayBuffer(_options.ReplayBufferMessages, _options.ReplayBufferBytes, _options.ResumeTimeout, _options.TimeProvider, ReplayBudget);
                session = new Session(this, connection, NewClientInfo(peer), replay);
                session.GrantsRequests = requests;
                _store.Add(session);
                session.Welcome(Welcome(session, resumed: false, recovered: false, batch));
            }

            if (replaced is null)
            {
                Connected.Add(session.Client);
            }
        }

        if (replaced is not null)
        {
            // The client came back before the server noticed it had gone: the old socket ends here, reported before the resume.
            replaced.Close(CloseKind.Superseded, VizDisconnectReason.ConnectionLost, null, "replaced by a resumed connection");
            Metrics?.ConnectionClosed(VizDisconnectReason.ConnectionLost);
            Post(new VizDisconnectEvent(session.Client, VizDisconnectReason.ConnectionLost, null, "replaced by a resumed connection", canResume: true));
        }

        if (Metrics is { } metrics)
        {
            metrics.ConnectionOpened(protocolVersion: 2);
            if (token is not null)
            {
                metrics.Resumed(!resumed ? ResumeOutcome.UnknownSession : recovered ? ResumeOutcome.Recovered : ResumeOutcome.Unrecovered);
            }
        }

        _logger.LogDebug("Client {Client} {How}", session.Client, resumed ? recovered ? "resumed" : "resumed without recovery" : "connected");
        Post(new VizConnectEvent(session.Client, resumed, recovered));
    }

    /// <summary>Whether two sockets were opened by the same user: the same name identifier (else name), or both anonymous.</summary>
    private static bool SameUser(System.Security.Claims.ClaimsPrincipal? a, System.Security.Claims.ClaimsPrincipal? b)
    {
        static string? Key(System.Security.Claims.ClaimsPrincipal? user) =>
            user?.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value ?? user?.Identity?.Name;

        return (a is null) == (b is null) && string.Equals(Key(a), Key(b), StringComparison.Ordinal);
    }

    private OutboundMessage Welcome(Session session, bool resumed, bool recovered, bool batch)
    {
        var (lastReceived, lastSent) = session.Numbers();
        var welcome = new JsonObject
        {
            ["v"] = 2,
            ["id"] = session.Client.Id,
            ["token"] = session.Token,
            ["epoch"] = Epoch,
            ["resumed"] = resumed,
            ["recovered"] = recovered,
            ["lastSeq"] = lastReceived,
            ["sentSeq"] = lastSent,
            ["heartbeatMs"] = (long)_options.HeartbeatInterval.TotalMilliseconds,
            ["batch"] = batch,
        };
        // Only to a client that asked: any other sees the welcome of before requests and binary messages.
        if (session.GrantsRequests)
        {
            welcome[RequestEnvelope.Capability] = true;
        }

        if (session.Connection.AcceptsBinary)
        {
            welcome["binary"] = true;
        }

        var payload = JsonText.ToUtf8Bytes(new JsonObject { ["event"] = Envelope.WelcomeEvent, ["data"] = welcome });
        var message = OutboundMessage.Control(payload);
        return batch ? message.ThatStartsBatching() : message;
    }

    /// <summary>A version 2 connection before its <c>$hello</c>: the only thing it may send is the hello.</summary>
    private sealed class Handshake(SessionHub hub, SocketPeer peer) : IConnectionHandler
    {
        private ITimer? _timeout;

        // As for a version 1 client: before its hello nothing is numbered, so a flood is dropped, not waited out.
        public bool ThrottlesInsteadOfDropping => false;

        public bool OnEnvelope(Connection connection, InboundEnvelope envelope)
        {
            if (envelope.EventName == Envelope.HelloEvent && peer.SpeaksVersion2)
            {
                _timeout?.Dispose();
                hub.OnHello(connection, peer, envelope.DataNode);

                // The welcome (and a resume's replay) wait for the read loop to wake the writer.
                return true;
            }

            if (envelope.EventName == RequestEnvelope.ReplyEvent)
            {
                // Nobody is granted requests before the hello: a reserved name, as it was before requests existed.
                connection.SendError(ProtocolErrors.InvalidEventName, Envelope.ValidateEventName(envelope.EventName)!);
                return false;
            }

            connection.SendError(ProtocolErrors.InvalidEnvelope, envelope.IsControl ? $"unexpected {envelope.EventName}" : "send $hello first");
            return false;
        }

        /// <summary>Closes with 1008 if no <c>$hello</c> has made a session of the connection after <paramref name="timeout"/>.</summary>
        public void CloseUnlessHelloWithin(Connection connection, TimeSpan timeout, TimeProvider time)
        {
            _timeout = time.CreateTimer(
                static state =>
                {
                    var connection = (Connection)state!;
                    if (connection.Handler is Handshake)
                    {
                        connection.Close(CloseKind.AfterQueued, VizDisconnectReason.ProtocolViolation, WebSocketCloseStatus.PolicyViolation, "expected $hello");
                    }
                },
                connection,
                timeout,
                Timeout.InfiniteTimeSpan);
        }

        public override string ToString() => peer.Address;
    }
}
