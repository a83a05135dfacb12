using System.Net.WebSockets;
using System.Security.Cryptography;
using VizHtml.Connections;
using VizHtml.Protocol;

namespace VizHtml.Sessions;

/// <summary>
/// One client's session: its current connection and, for a client that speaks protocol version 2, what outlives that
/// connection: sequence numbers both ways, the replay buffer of unacknowledged events, the newest latest-class values,
/// the secret resume token. Every change to that state happens here, under one lock, so sequence order, replay order and
/// queue order are one order. <see cref="VizClient"/> is its public face.
/// </summary>
internal sealed partial class Session : IConnectionHandler
{
    private readonly Lock _gate = new();
    private readonly SessionHub _hub;
    private readonly ReplayBuffer? _replay;
    // Made with the first latest-class event: most clients never get one, and an idle connection should hold little.
    private Dictionary<string, ReadOnlyMemory<byte>>? _latestValues;
    private volatile Connection _connection;
    private volatile bool _connected = true;
    private long _lastSent;
    private long _lastReceived;
    private long? _detachedAt;
    private BroadcastLog.Mark _awayFrom;
    private bool _ended;
    private long _eventsReceived;
    private long _eventsSent;

    private Dictionary<string, ReadOnlyMemory<byte>> LatestValues => _latestValues ??= new(StringComparer.Ordinal);

    public Session(SessionHub hub, Connection connection, VizClientInfo info, ReplayBuffer? replay)
    {
        _hub = hub;
        _connection = connection;
        _replay = replay;
        if (replay is not null)
        {
            Token = NewToken();
        }

        Client = new VizClient(this, info);
        connection.Handler = this;
    }

    /// <summary>The public client object: the same instance for the session's whole life, resumes included.</summary>
    public VizClient Client { get; }

    public SessionHub Hub => _hub;

    /// <summary>Whether the client speaks protocol version 2: numbered, acknowledged, resumable.</summary>
    public bool Resumable => _replay is not null;

    bool IConnectionHandler.ThrottlesInsteadOfDropping => Resumable;

    /// <summary>The secret a reconnecting client presents; replaced at every attach, so a token works once. Null for version 1.</summary>
    public string? Token { get; private set; }

    public bool IsConnected => _connected;

    /// <summary>Whether the connection was lost and the session may still resume.</summary>
    public bool IsAway
    {
        get
        {
            lock (_gate)
            {
                return !_connected && _detachedAt is not null;
            }
        }
    }

    /// <summary>Events from this client handed to the handlers, resumes included (the status page reads it).</summary>
    public long EventsReceived => Interlocked.Read(ref _eventsReceived);

    /// <summary>Events queued for this client's connection, resumes included; replays and the protocol's own messages not counted.</summary>
    public long EventsSent => Interlocked.Read(ref _eventsSent);

    /// <summary>Counts an event from this client (its read loop, as it hands the event on).</summary>
    public void CountEventReceived() => Interlocked.Increment(ref _eventsReceived);

    /// <summary>The current connection, or the last one while the client is away.</summary>
    public Connection Connection => _connection;

    /// <summary>
    /// Sends one message to this client: a reliable event to a version 2 client is numbered and kept for replay first; a
    /// latest-class value is remembered for a resume. For a client that is away, the event waits for its return (after
    /// the broadcasts it missed, so its order is kept).
    /// </summary>
    /// <returns>Whether the message was queued, or kept for a client that may resume.</returns>
    public bool Send(in OutboundMessage message, Wake wake) => Send(message, wake, broadcastPosition: 0, out _);

    /// <summary>
    /// Sends a broadcast that <see cref="BroadcastLog"/> keeps at <paramref name="position"/>. A client that went away
    /// before it was logged takes it from the log when it returns, so it is not kept twice.
    /// </summary>
    public bool SendBroadcast(in OutboundMessage message, long position, Wake wake) => Send(message, wake, position, out _);

    /// <param name="message">The message.</param>
    /// <param name="wake">How to wake the writer.</param>
    /// <param name="broadcastPosition">The broadcast's position in the log, 0 for a message to this client alone.</param>
    /// <param name="seq">The number a reliable event got (version 2), else 0.</param>
    private bool Send(in OutboundMessage message, Wake wake, long broadcastPosition, out long seq)
    {
        seq = 0;
        if (_replay is null)
        {
            if (_connection.Send(message, wake))
            {
                Interlocked.Increment(ref _eventsSent);
                return true;
            }

            return false;
        }

        var numbered = message;
        Connection connection;
        bool queued, wakeClaimed = false;
        lock (_gate)
        {
            if (_ended)
            {
                // Gone for good: nothing is kept for it (its replay buffer would otherwise count against every client's).
                message.Delivered?.TrySetResult(false);
                return false;
            }

            if (!_connected && _detachedAt is not null)
            {
                if (broadcastPosition > _awayFrom.Position)
                {
                    // Logged after this client went away: the log keeps it for the return.
                    message.Delivered?.TrySetResult(false);
                    return false;
                }

                if (broadcastPosition == 0)
                {
                    // Sent to this client alone while it is away: the broadcasts it missed come first.
                    CatchUp();
                }
            }

            switch (message.Delivery)
            {
                case VizDelivery.Reliable:
                    numbered = message.WithSeq(seq = ++_lastSent);
                    _replay.Append(numbered.Seq, numbered.Payload);
                    break;
                case VizDelivery.Latest:
                    LatestValues[message.LatestKey!] = message.Payload;
                    break;
            }

            if (!_connected)
            {
                message.Delivered?.TrySetResult(false);

                // Away: a reliable event waits in the replay buffer, a latest value in the latest values; a volatile one is gone.
                return message.Delivery != VizDelivery.Volatile && _detachedAt is not null;
            }

            // Enqueued under the lock, so queue order is sequence order; the writer is woken after it, so it never runs
            // inside the lock. A reliable event the queue refuses (slow consumer) stays in the replay buffer for the resume.
            connection = _connection;
            queued = connection.SendClaimingWake(numbered, out wakeClaimed) || message.Delivery == VizDelivery.Reliable;
        }

        if (queued)
        {
            Interlocked.Increment(ref _eventsSent);
        }

        if (wakeClaimed)
        {
            connection.WakeClaimed(wake);
        }

        return queued;
    }

    /// <summary>Takes the broadcasts logged since this client went away into its own sequence (under the lock).</summary>
    private void CatchUp()
    {
        var missed = new Missed(this);
        _awayFrom = _hub.Log.CopyAfter(_awayFrom, ref missed);
    }

    /// <summary>Numbers each missed broadcast in this session's sequence, as if it had been sent while the client was away.</summary>
    private readonly struct Missed(Session session) : BroadcastLog.ITarget
    {
        public void Lost(long count)
        {
            // Their numbers are used up as if they had been sent: a client that had less cannot be brought up to date.
            session._lastSent += count;
            session._replay!.MarkLost(session._lastSent);
        }

        public void Reliable(ReadOnlyMemory<byte> payload) => session._replay!.Append(++session._lastSent, payload);

        public void Latest(string eventName, ReadOnlyMemory<byte> payload) => session.LatestValues[eventName] = payload;
    }

    bool IConnectionHandler.OnEnvelope(Connection connection, InboundEnvelope envelope)
    {
        // A reply is numbered like any event of the client's; to a client not granted requests, a reserved name as before.
        var reply = envelope.EventName == RequestEnvelope.ReplyEvent;
        if (reply && !GrantsRequests)
        {
            connection.SendError(ProtocolErrors.InvalidEventName, Envelope.ValidateEventName(envelope.EventName)!);
            return false;
        }

        if (envelope.IsControl && !reply)
        {
            if (envelope.EventName == Envelope.AckEvent && _replay is not null && (envelope.AckSeq >= 0 ? envelope.AckSeq : Envelope.ReadSeq(envelope.DataNode, "seq")) is { } seq)
            {
                lock (_gate)
                {
                    _replay.Acknowledge(Math.Min(seq, _lastSent));
                }
            }
            else
            {
                connection.SendError(ProtocolErrors.InvalidEnvelope, $"unexpected {envelope.EventName}");
            }

            return false;
        }

        if (_replay is not null && envelope.Seq > 0)
        {
            lock (_gate)
            {
                // A replayed event the application already has: acknowledged again, not delivered twice.
                var duplicate = envelope.Seq <= _lastReceived;
                if (!duplicate)
                {
                    _lastReceived = envelope.Seq;
                }

                // Left waiting: it leaves with the handler's answer if a handler runs on this thread and answers, else right
                // after (the read loop wakes the writer). A handler's own sends wake the writer as any send does.
                connection.Send(OutboundMessage.Control(Envelope.Ack(_lastReceived)), Wake.Deferred, withinBounds: false);
                if (duplicate)
                {
                    return true;
                }
            }

            Deliver(connection, envelope, reply);
            return true;
        }

        Deliver(connection, envelope, reply);
        return false;
    }

    /// <summary>
    /// Puts a resuming client on its new connection (<paramref name="welcome"/> builds its welcome, given whether it
    /// recovered, once the token has rotated): the welcome, then (when everything it missed is still kept) the
    /// replay, then the newest latest-class values, all queued before anything sent later.
    /// </summary>
    /// <returns>
    /// Whether it resumed (not when the session ended meanwhile: expired in the same instant), whether everything was
    /// recovered, and the connection it replaced if the old one was still open.
    /// </returns>
    public (bool Resumed, bool Recovered, Connection? Replaced) Resume(Connection connection, long lastSeq, Func<bool, OutboundMessage> welcome)
    {
        lock (_gate)
        {
            if (_ended)
            {
                return (false, false, null);
            }

            if (!_connected && _detachedAt is not null)
            {
                CatchUp();
            }

            var recovered = _replay!.CanReplayFrom(lastSeq, _lastSent);
            if (recovered)
            {
                // The client has everything up to lastSeq: that much needs no keeping.
                _replay.Acknowledge(lastSeq);
            }
            else
            {
                FailRequestsSentAfter(lastSeq);
            }

            var replaced = _connected && !ReferenceEquals(_connection, connection) ? _connection : null;
            _connection = connection;
            connection.Handler = this;
            _connected = true;
            _detachedAt = null;
            Token = NewToken();
            // Left waiting, all of it: the read loop that handles the hello wakes the writer once it returns, and the
            // writer then sends the welcome alone and the replay in as few frames as batching allows.
            connection.Send(welcome(recovered), Wake.Deferred, withinBounds: false);
            if (recovered)
            {
                foreach (var (seq, payload) in _replay.After(lastSeq))
                {
                    connection.Send(OutboundMessage.Control(payload).WithSeq(seq), Wake.Deferred, withinBounds: false);
                }
            }
            else
            {
                // What is kept no longer forms an unbroken run: start afresh after the last number sent.
                _replay.Acknowledge(_lastSent);
            }

            foreach (var (name, payload) in _latestValues ?? [])
            {
                connection.Send(OutboundMessage.Event(payload, VizDelivery.Latest, name), Wake.Deferred);
            }

            return (true, recovered, replaced);
        }
    }

    /// <summary>Queues the first welcome of a new version 2 session (the read loop handling the hello wakes the writer).</summary>
    public void Welcome(OutboundMessage welcome)
    {
        lock (_gate)
        {
            _connection.Send(welcome, Wake.Deferred, withinBounds: false);
        }
    }

    /// <summary>How many events wait unacknowledged in the replay buffer, and the highest acknowledged (for tests).</summary>
    public (int Count, long Acknowledged) ReplayState()
    {
        lock (_gate)
        {
            return (_replay?.Count ?? 0, _replay?.Acknowledged ?? 0);
        }
    }

    /// <summary>The numbers a welcome reports: the last event received from the client and the last one sent to it.</summary>
    public (long LastReceived, long LastSent) Numbers()
    {
        lock (_gate)
        {
            return (_lastReceived, _lastSent);
        }
    }

    /// <summary>
    /// The connection ended. Returns false when it is not the session's current one (a resume replaced it). A session that
    /// may resume is marked away from <paramref name="now"/>; otherwise it is over.
    /// </summary>
    /// <param name="connection">The connection that ended.</param>
    /// <param name="mayResume">Whether its end allows a resume (a lost connection, not a close).</param>
    /// <param name="now">A <see cref="TimeProvider"/> timestamp.</param>
    /// <param name="logPosition">The <see cref="BroadcastLog"/>'s mark now: later broadcasts wait there for a resume.</param>
    /// <param name="away">Whether the session is now away and may resume (not when the application ended it meanwhile).</param>
    public bool Detach(Connection connection, bool mayResume, long now, BroadcastLog.Mark logPosition, out bool away)
    {
        lock (_gate)
        {
            away = false;
            if (!ReferenceEquals(_connection, connection))
            {
                return false;
            }

            _connected = false;
            away = mayResume && !_ended;
            _detachedAt = mayResume && !_ended ? now : null;
            _awayFrom = logPosition;
            return true;
        }
    }

    /// <summary>Whether the session has been away longer than <paramref name="timeout"/>; if so, it is over.</summary>
    public bool ExpireIfAwayLongerThan(TimeSpan timeout, long now, TimeProvider time)
    {
        lock (_gate)
        {
            if (_detachedAt is { } since && time.GetElapsedTime(since, now) > timeout)
            {
                _detachedAt = null;
                return true;
            }

            return false;
        }
    }

    /// <summary>Ends the session for good: it can no longer be resumed.</summary>
    public void End()
    {
        lock (_gate)
        {
            _ended = true;
            _detachedAt = null;
            _replay?.Clear();
            _latestValues?.Clear();
            FailRequestsSentAfter(0);
        }
    }

    /// <summary>Ends the session if it is still away (not when it resumed meanwhile); true if it did.</summary>
    public bool EndIfAway()
    {
        lock (_gate)
        {
            if (_connected || _detachedAt is null)
            {
                return false;
            }

            End();
            return true;
        }
    }

    /// <summary>Closes the current connection (code 1000 unless given) after what is queued; the session ends with it.</summary>
    public void Close(VizDisconnectReason reason, WebSocketCloseStatus status, string description)
    {
        _hub.End(this);
        _connection.Close(CloseKind.AfterQueued, reason, status, description);
    }

    /// <inheritdoc/>
    public override string ToString() => Client.ToString();

    private static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
}

/// <summary>What a new client is known by before its session exists.</summary>
internal readonly record struct VizClientInfo(string Id, string Address, DateTimeOffset ConnectedAt, System.Security.Claims.ClaimsPrincipal? User, string? UserAgent = null);
