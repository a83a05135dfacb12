namespace VizHtml;

// The request side of the facade's contract API: OnRequest from a VizCall the page makes of the server.
public sealed partial class VizHtmlServer
{
    /// <summary>
    /// Answers a contract request pages make of the server (see
    /// <see cref="OnRequest{TRequest, TResponse}(string, Func{TRequest, VizRequestEvent, ValueTask{TResponse}})"/>): one
    /// handler per name, its request bound to <typeparamref name="TRequest"/>, its answer sent back as JSON.
    /// </summary>
    /// <returns>Dispose it to unregister.</returns>
    /// <exception cref="ArgumentException">The request goes from the server to the page, so the server would never be asked it.</exception>
    /// <exception cref="InvalidOperationException">The name already has a handler.</exception>
    public IDisposable OnRequest<TRequest, TResponse>(VizCall<TRequest, TResponse> call, Func<TRequest, VizRequestEvent, ValueTask<TResponse>> handler)
    {
        ArgumentNullException.ThrowIfNull(call);
        call.ThrowUnlessPageSends();
        return OnRequest(call.Name, handler);
    }

    /// <summary>As <see cref="OnRequest{TRequest, TResponse}(VizCall{TRequest, TResponse}, Func{TRequest, VizRequestEvent, ValueTask{TResponse}})"/>, with a synchronous handler.</summary>
    /// <returns>Dispose it to unregister.</returns>
    /// <exception cref="ArgumentException">The request goes from the server to the page, so the server would never be asked it.</exception>
    /// <exception cref="InvalidOperationException">The name already has a handler.</exception>
    public IDisposable OnRequest<TRequest, TResponse>(VizCall<TRequest, TResponse> call, Func<TRequest, VizRequestEvent, TResponse> handler)
    {
        ArgumentNullException.ThrowIfNull(call);
        call.ThrowUnlessPageSends();
        return OnRequest(call.Name, handler);
    }
}

// The server's requests of a page, from a VizCall: VizClient is model, but this file is the one place the requests'
// contract API waits for the requests branch, so both halves stay together.
public sealed partial class VizClient
{
    /// <summary>
    /// Asks this client's page a contract request and completes with its answer (see
    /// <see cref="RequestAsync{TResponse}(string, object?, TimeSpan?, CancellationToken)"/>: queued while the client is
    /// away, <see cref="VizRequestException"/> for an error answer, a timeout or a lost session).
    /// </summary>
    /// <param name="call">The request: from the server to the page.</param>
    /// <param name="request">What the page's <c>onrequest</c> handler receives as <c>e.data</c>.</param>
    /// <param name="timeout">How long to wait for the answer; <see langword="null"/> for <see cref="VizHtmlOptions.RequestTimeout"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The page's answer, bound to <typeparamref name="TResponse"/>.</returns>
    /// <exception cref="ArgumentException">The request goes from the page to the server.</exception>
    public Task<TResponse> RequestAsync<TRequest, TResponse>(VizCall<TRequest, TResponse> call, TRequest request, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        call.ThrowUnlessServerSends();
        return RequestAsync<TResponse>(call.Name, request, timeout, cancellationToken);
    }
}
