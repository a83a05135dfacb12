namespace VizHtml;

/// <summary>
/// Declares a contract's requests, each a question with an answer:
/// <c>public static readonly VizCall&lt;StartTrial, TrialAccepted&gt; Start = VizCall.ToServer&lt;StartTrial, TrialAccepted&gt;("start_trial");</c>.
/// The page's TypeScript declarations (<see cref="VizContract"/>) type <c>request</c> and <c>onrequest</c> from it.
/// </summary>
public static class VizCall
{
    /// <summary>A request the server makes of a page (<c>VizClient.RequestAsync</c>), answered by the page's <c>onrequest</c> handler.</summary>
    /// <typeparam name="TRequest">What the server sends.</typeparam>
    /// <typeparam name="TResponse">What the page answers.</typeparam>
    /// <param name="name">The request name on the wire; must not start with <c>$</c>.</param>
    /// <exception cref="ArgumentException">The name is empty, too long or reserved.</exception>
    public static VizCall<TRequest, TResponse> ToPage<TRequest, TResponse>(string name) => new(name, VizDirection.ToPage);

    /// <summary>A request a page makes of the server (<c>socket.request</c>), answered by the server's <c>OnRequest</c> handler.</summary>
    /// <typeparam name="TRequest">What the page sends.</typeparam>
    /// <typeparam name="TResponse">What the server answers.</typeparam>
    /// <param name="name">The request name on the wire; must not start with <c>$</c>.</param>
    /// <exception cref="ArgumentException">The name is empty, too long or reserved.</exception>
    public static VizCall<TRequest, TResponse> ToServer<TRequest, TResponse>(string name) => new(name, VizDirection.ToServer);
}

/// <summary>A named request of a contract: <typeparamref name="TRequest"/> asked, <typeparamref name="TResponse"/> answered; made by <see cref="VizCall"/>. Immutable.</summary>
/// <typeparam name="TRequest">What the requester sends.</typeparam>
/// <typeparam name="TResponse">What the answer carries.</typeparam>
public sealed class VizCall<TRequest, TResponse> : VizContractMember
{
    internal VizCall(string name, VizDirection direction)
        : base(name, direction, typeof(TRequest), typeof(TResponse))
    {
    }
}
