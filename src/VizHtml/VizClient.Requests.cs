using VizHtml.Protocol;

namespace VizHtml;

/// <summary>Requests to the page: <see cref="RequestAsync{TResponse}"/>.</summary>
public sealed partial class VizClient
{
    /// <summary>
    /// Asks the page (its <c>socket.onrequest(name, fn)</c> handler) and completes with its answer. Sent as a reliable
    /// event: while the client is away it waits for the resume, and the page answers it exactly once.
    /// </summary>
    /// <typeparam name="TResponse">The answer's type (<see cref="VizData"/> for any JSON).</typeparam>
    /// <param name="eventName">The request's name; must not start with <c>$</c>.</param>
    /// <param name="data">Anything System.Text.Json can write, or a <see cref="VizData"/>.</param>
    /// <param name="timeout">How long to wait for the answer; <see langword="null"/> for <see cref="VizHtmlOptions.RequestTimeout"/>, <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <param name="cancellationToken">Stops waiting (the page may still get the request and answer it; the answer is then ignored).</param>
    /// <returns>The page's answer, bound to <typeparamref name="TResponse"/>.</returns>
    /// <exception cref="VizRequestException">
    /// The page answered with an error (<see cref="VizRequestException.Code"/>: <c>no_handler</c>, <c>handler_error</c>, or
    /// the page's own), or there is no answer: <c>timeout</c>, <c>session_lost</c> (the session ended first, or a resume
    /// without recovery lost the request), <c>not_supported</c> (the page speaks protocol version 1 or did not ask for
    /// requests), <c>invalid_data</c> (the answer does not fit <typeparamref name="TResponse"/>).
    /// </exception>
    /// <exception cref="ArgumentException">The event name is empty, too long or reserved.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not positive (nor infinite).</exception>
    /// <exception cref="NotSupportedException">System.Text.Json cannot write <paramref name="data"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first.</exception>
    public async Task<TResponse> RequestAsync<TResponse>(string eventName, object? data = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (Envelope.ValidateEventName(eventName) is { } problem)
        {
            throw new ArgumentException($"Invalid event name '{eventName}': {problem}.", nameof(eventName));
        }

        var hub = _session.Hub;
        var wait = timeout ?? hub.Options.RequestTimeout;
        if (wait <= TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), wait, "The timeout must be positive, or Timeout.InfiniteTimeSpan.");
        }

        var answer = _session.Request(eventName, data, hub.JsonOptions, out var req);
        if (req > 0)
        {
            hub.Metrics?.EventsSent(1, VizDelivery.Reliable);
        }

        RequestReply reply;
        try
        {
            reply = await answer.WaitAsync(wait, hub.Options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _session.ForgetRequest(req);
            throw new VizRequestException(RequestErrors.Timeout, $"no answer to request '{eventName}' within {wait.TotalSeconds:0.###} s");
        }
        catch (OperationCanceledException)
        {
            _session.ForgetRequest(req);
            throw;
        }

        return VizRequestException.Unwrap<TResponse>(reply, eventName, hub.JsonOptions);
    }
}
