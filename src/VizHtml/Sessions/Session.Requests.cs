using VizHtml.Connections;
using VizHtml.Protocol;

namespace VizHtml.Sessions;

/// <summary>
/// Requests on a session (a version 2 client granted <c>requests</c>): the server's requests to the client wait here for
/// their <c>$reply</c> across connections, and fail with <c>session_lost</c> when the session ends or when a resume that is
/// not recovered shows the client never got them. The client's requests go to the hub's request handlers.
/// </summary>
internal sealed partial class Session
{
    // Under _gate: the server's requests still waiting, by id, with the number their request event got.
    // Made with the first request to this client (under the lock).
    private Dictionary<long, (TaskCompletionSource<RequestReply> Answer, long Seq)>? _requests;
    private long _lastRequestId;
    private volatile bool _grantsRequests;

    /// <summary>Whether the client asked for requests in its <c>$hello</c> (and so was granted them).</summary>
    public bool GrantsRequests
    {
        get => _grantsRequests;
        set => _grantsRequests = value;
    }

    /// <summary>
    /// Sends a request to the client; the task completes with its reply, or with a failure (<c>not_supported</c>,
    /// <c>session_lost</c>) as a reply of that code. The caller applies its timeout and then calls <see cref="ForgetRequest"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">System.Text.Json cannot write <paramref name="data"/>.</exception>
    public Task<RequestReply> Request(string eventName, object? data, System.Text.Json.JsonSerializerOptions options, out long req)
    {
        req = 0;
        if (!Resumable || !GrantsRequests)
        {
            return Task.FromResult(new RequestReply(0, null, RequestErrors.NotSupported, "the client does not take requests (it speaks protocol version 1, or did not ask for requests)"));
        }

        req = Interlocked.Increment(ref _lastRequestId);
        var payload = RequestEnvelope.Request(eventName, data, req, options);
        var answer = new TaskCompletionSource<RequestReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_ended)
            {
                return Task.FromResult(Lost);
            }

            // Its number is not known before it is sent: until then a resume without recovery counts it as lost.
            (_requests ??= [])[req] = (answer, long.MaxValue);
        }

        if (!Send(OutboundMessage.Event(payload, VizDelivery.Reliable, eventName), Wake.Inline, broadcastPosition: 0, out var seq))
        {
            ForgetRequest(req)?.TrySetResult(Lost);
        }
        else
        {
            lock (_gate)
            {
                if (_requests!.TryGetValue(req, out var pending))
                {
                    _requests[req] = (pending.Answer, seq);
                }
            }
        }

        return answer.Task;
    }

    /// <summary>Stops waiting for a request's reply (timed out or cancelled): a reply that comes later is ignored.</summary>
    public TaskCompletionSource<RequestReply>? ForgetRequest(long req)
    {
        lock (_gate)
        {
            return _requests is not null && _requests.Remove(req, out var pending) ? pending.Answer : null;
        }
    }

    /// <summary>Sends the answer to one of the client's requests: a reliable event, kept for a resume like any other.</summary>
    public void Reply(byte[] payload) => Send(OutboundMessage.Event(payload, VizDelivery.Reliable, RequestEnvelope.ReplyEvent), Wake.Inline);

    private static RequestReply Lost => new(0, null, RequestErrors.SessionLost, "the session ended before the answer came");

    /// <summary>Fails the requests whose event came after <paramref name="lastSeq"/>: the client will never see them (under the lock).</summary>
    private void FailRequestsSentAfter(long lastSeq)
    {
        if (_requests is not { Count: > 0 })
        {
            return;
        }

        foreach (var (req, pending) in _requests.ToArray())
        {
            if (pending.Seq > lastSeq)
            {
                _requests.Remove(req);

                // Continuations run asynchronously: nothing of the caller's runs under the lock.
                pending.Answer.TrySetResult(Lost);
            }
        }
    }

    /// <summary>An application event from the client, a request of it, or its reply to one of the server's.</summary>
    private void Deliver(Connection connection, InboundEnvelope envelope, bool reply)
    {
        if (reply)
        {
            if (!RequestEnvelope.TryReadReply(envelope.DataNode, out var answer))
            {
                connection.SendError(ProtocolErrors.InvalidEnvelope, "$reply needs data {\"req\": id, \"value\": ...} or {\"req\": id, \"error\": {\"code\": ..., \"message\": ...}}");
                return;
            }

            // A reply to a request that timed out, or to one this session never sent, is dropped.
            ForgetRequest(answer.Req)?.TrySetResult(answer);
            return;
        }

        if (envelope.Req != 0 && GrantsRequests)
        {
            if (envelope.Req < 0)
            {
                connection.SendError(ProtocolErrors.InvalidEnvelope, "\"req\" must be a positive integer");
                return;
            }

            _hub.DeliverRequest(this, envelope);
            return;
        }

        _hub.Deliver(this, envelope);
    }
}
