using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using VizHtml.Protocol;

namespace VizHtml;

/// <summary>Requests both ways: <see cref="RequestAsync{TResponse}"/> to the server, <see cref="OnRequest{TRequest, TResponse}(string, Func{TRequest, VizClientMessageEvent, ValueTask{TResponse}})"/> for the server's.</summary>
public sealed partial class VizHtmlClient
{
    // Under _gate: this client's requests still waiting, by id, with the number their event got.
    private readonly Dictionary<long, (TaskCompletionSource<RequestReply> Answer, long Seq)> _requests = [];
    private readonly ConcurrentDictionary<string, Func<VizClientMessageEvent, ValueTask<object?>>> _answerers = new(StringComparer.Ordinal);
    private long _lastRequestId;
    private volatile bool _requestsGranted;
    private bool _everWelcomed;

    /// <summary>
    /// Asks the server (its <c>OnRequest</c> handler for <paramref name="eventName"/>) and completes with the answer. Sent as a
    /// numbered event: while disconnected it waits, is resent after a reconnect, and is answered once.
    /// </summary>
    /// <typeparam name="TResponse">The answer's type (<see cref="VizData"/> for any JSON).</typeparam>
    /// <param name="eventName">The request's name; must not start with <c>$</c>.</param>
    /// <param name="data">Anything System.Text.Json can write, or a <see cref="VizData"/>.</param>
    /// <param name="timeout">How long to wait; <see langword="null"/> for <see cref="VizHtmlClientOptions.RequestTimeout"/>, <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <param name="cancellationToken">Stops waiting (the server may still answer; the answer is then ignored).</param>
    /// <returns>The answer, bound to <typeparamref name="TResponse"/>.</returns>
    /// <exception cref="VizRequestException">
    /// An error answer (<c>no_handler</c>, <c>handler_error</c>, <c>invalid_data</c> or the handler's own code), or none:
    /// <c>timeout</c>, <c>session_lost</c> (the client was disposed, or a reconnect without recovery lost the answer),
    /// <c>not_supported</c> (the server does not take requests).
    /// </exception>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not positive (nor infinite).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first.</exception>
    public async Task<TResponse> RequestAsync<TResponse>(string eventName, object? data = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (Envelope.ValidateEventName(eventName) is { } problem)
        {
            throw new ArgumentException($"Invalid event name '{eventName}': {problem}.", nameof(eventName));
        }

        var wait = timeout ?? _options.RequestTimeout;
        if (wait <= TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), wait, "The timeout must be positive, or Timeout.InfiniteTimeSpan.");
        }

        var answer = new TaskCompletionSource<RequestReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        long req;
        lock (_gate)
        {
            if (_stop.IsCancellationRequested)
            {
                throw new VizRequestException(RequestErrors.SessionLost, "the client is closed");
            }

            if (_everWelcomed && !_requestsGranted)
            {
                throw new VizRequestException(RequestErrors.NotSupported, NotGranted);
            }

            req = ++_lastRequestId;
            var seq = _lastSent + 1;
            var payload = RequestEnvelope.Request(eventName, data, req, _serializer.Options, seq);
            _lastSent = seq;
            _requests[req] = (answer, seq);
            Enqueue(seq, payload);
        }

        RequestReply reply;
        try
        {
            reply = await answer.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Forget(req);
            throw new VizRequestException(RequestErrors.Timeout, $"no answer to request '{eventName}' within {wait.TotalSeconds:0.###} s");
        }
        catch (OperationCanceledException)
        {
            Forget(req);
            throw;
        }

        return VizRequestException.Unwrap<TResponse>(reply, eventName, _serializer.Options);
    }

    /// <summary>
    /// Answers the server's requests named <paramref name="eventName"/> (<c>VizClient.RequestAsync</c>) with what the
    /// handler's task returns; the data is bound to <typeparamref name="TRequest"/>. Handlers run on the receive loop, in
    /// order with message handlers: one that waits for another answer from the server would wait forever. A handler that
    /// throws a <see cref="VizRequestException"/> answers with its code and message; any other exception answers
    /// <c>handler_error</c> with a generic message (and is logged). One handler per name.
    /// </summary>
    /// <returns>Dispose it to unregister.</returns>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    /// <exception cref="InvalidOperationException">The name has a handler already.</exception>
    public IDisposable OnRequest<TRequest, TResponse>(string eventName, Func<TRequest, VizClientMessageEvent, ValueTask<TResponse>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (Envelope.ValidateEventName(eventName) is { } problem)
        {
            throw new ArgumentException($"Invalid event name '{eventName}': {problem}.", nameof(eventName));
        }

        Func<VizClientMessageEvent, ValueTask<object?>> answer = async e =>
        {
            TRequest value;
            try
            {
                value = e.Data.As<TRequest>(_options.JsonSerializerOptions);
            }
            catch (JsonException)
            {
                throw new VizRequestException(RequestErrors.InvalidData, $"data of request '{e.Event}' does not fit the expected shape");
            }

            return await handler(value, e).ConfigureAwait(false);
        };
        if (!_answerers.TryAdd(eventName, answer))
        {
            throw new InvalidOperationException($"Request '{eventName}' already has a handler (one per name); dispose its registration first.");
        }

        return new Registration(_answerers, eventName, answer);
    }

    /// <summary>As <see cref="OnRequest{TRequest, TResponse}(string, Func{TRequest, VizClientMessageEvent, ValueTask{TResponse}})"/>, with a synchronous handler.</summary>
    /// <returns>Dispose it to unregister.</returns>
    public IDisposable OnRequest<TRequest, TResponse>(string eventName, Func<TRequest, VizClientMessageEvent, TResponse> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return OnRequest<TRequest, TResponse>(eventName, (value, e) => new ValueTask<TResponse>(handler(value, e)));
    }

    private const string NotGranted = "the server does not take requests";

    /// <summary>Runs the handler of a server request on the receive loop and sends its answer.</summary>
    private async ValueTask AnswerAsync(string name, JsonNode? data, long req)
    {
        if (!_answerers.TryGetValue(name, out var handler))
        {
            SendReply(req, null, RequestErrors.NoHandler, $"no handler for request '{name}'");
            return;
        }

        object? value;
        try
        {
            value = await handler(new VizClientMessageEvent(name, VizData.FromNode(data))).ConfigureAwait(false);
        }
        catch (VizRequestException ex)
        {
            SendReply(req, null, ex.Code, ex.Message);
            return;
        }
#pragma warning disable CA1031 // The boundary: whatever the handler throws becomes an error answer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogError(ex, "The request handler for {Event} threw; the server gets {Code}", name, RequestErrors.HandlerError);
            SendReply(req, null, RequestErrors.HandlerError, $"the handler for request '{name}' failed");
            return;
        }

        SendReply(req, value, null, null);
    }

    private void SendReply(long req, object? value, string? code, string? message)
    {
        lock (_gate)
        {
            var seq = _lastSent + 1;
            byte[] payload;
            try
            {
                payload = code is null ? RequestEnvelope.Reply(req, value, _serializer.Options, seq) : RequestEnvelope.ReplyError(req, code, message!, seq);
            }
            catch (NotSupportedException ex)
            {
                _logger.LogError(ex, "The answer to a request could not be written; the server gets {Code}", RequestErrors.HandlerError);
                payload = RequestEnvelope.ReplyError(req, RequestErrors.HandlerError, "the answer could not be written", seq);
            }

            _lastSent = seq;
            Enqueue(seq, payload);
        }
    }

    private void OnReply(JsonNode? data)
    {
        if (RequestEnvelope.TryReadReply(data, out var reply))
        {
            Forget(reply.Req)?.TrySetResult(reply);
        }
    }

    private TaskCompletionSource<RequestReply>? Forget(long req)
    {
        lock (_gate)
        {
            return _requests.Remove(req, out var pending) ? pending.Answer : null;
        }
    }

    /// <summary>
    /// After a welcome (under the lock, once the pending sends are settled): without requests granted every waiting request
    /// fails <c>not_supported</c>; without recovery, those the server took (no longer pending) fail <c>session_lost</c>.
    /// </summary>
    private void OnWelcomeForRequests(JsonObject welcome, bool recovered)
    {
        _requestsGranted = welcome[RequestEnvelope.Capability] is JsonValue v && v.TryGetValue<bool>(out var granted) && granted;
        _everWelcomed = true;
        if (!_requestsGranted)
        {
            FailRequests(_ => true, RequestErrors.NotSupported);
        }
        else if (!recovered)
        {
            var kept = new HashSet<long>(_pending.Select(p => p.Seq));
            FailRequests(seq => !kept.Contains(seq), RequestErrors.SessionLost);
        }
    }

    private void FailRequests(Func<long, bool> which, string code)
    {
        var reply = new RequestReply(0, null, code, code == RequestErrors.NotSupported ? NotGranted : "the session was lost before the answer came");
        lock (_gate)
        {
            foreach (var (req, pending) in _requests.ToArray())
            {
                if (which(pending.Seq))
                {
                    _requests.Remove(req);
                    pending.Answer.TrySetResult(reply);
                }
            }
        }
    }

    private sealed class Registration(ConcurrentDictionary<string, Func<VizClientMessageEvent, ValueTask<object?>>> all, string eventName, Func<VizClientMessageEvent, ValueTask<object?>> handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                ((ICollection<KeyValuePair<string, Func<VizClientMessageEvent, ValueTask<object?>>>>)all).Remove(new(eventName, handler));
            }
        }
    }
}
