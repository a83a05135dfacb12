using VizHtml.Http;

namespace VizHtml;

// The contract side of the facade: typed sends and handlers from VizEvent descriptors, and the contract's TypeScript
// declarations served beside vizhtml.d.ts.
public sealed partial class VizHtmlServer
{
    // The contract's declarations as served; null until UseContract. Replaced whole, so a request sees one or the other.
    private volatile ClientScript? _contractDeclarations;

    /// <summary>
    /// Uses <paramref name="contract"/>: its TypeScript declarations are served at <c>&lt;mount&gt;/contract.d.ts</c> (beside
    /// <c>vizhtml.d.ts</c>, same access rules and caching), and each of its events that names a delivery class gets it
    /// (<see cref="SetDelivery"/>). Calling it again replaces the contract served.
    /// </summary>
    /// <param name="contract">The contract, e.g. <c>VizContract.From(typeof(Trial))</c>.</param>
    /// <exception cref="NotSupportedException">System.Text.Json cannot describe one of its payload types with the server's options.</exception>
    public void UseContract(VizContract contract)
    {
        ArgumentNullException.ThrowIfNull(contract);

        // Generated now, so a payload type the serializer cannot describe fails at startup rather than on a page's request.
        var declarations = ClientScript.FromText(contract.ToTypeScript(_jsonOptions), ClientScript.Declarations.ContentType);
        foreach (var member in contract.Members)
        {
            if (member.DeliveryClass is { } delivery && member.ServerSends)
            {
                SetDelivery(member.Name, delivery);
            }
        }

        _contractDeclarations = declarations;
    }

    /// <summary>As <see cref="UseContract(VizContract)"/>, with the contract <see cref="VizContract.From"/> reads from <paramref name="contractTypes"/>.</summary>
    /// <param name="contractTypes">Types (static classes) whose public static fields are the contract's descriptors.</param>
    /// <exception cref="ArgumentException">A type declares no descriptor, or two descriptors use one name the same way.</exception>
    public void UseContract(params Type[] contractTypes) => UseContract(VizContract.From(contractTypes));

    /// <summary>The delivery class sends of <paramref name="eventName"/> get when they name none (for tests).</summary>
    internal VizDelivery DeliveryOf(string eventName) => _hub.DeliveryOf(eventName);

    /// <summary>The TypeScript the server serves at <c>&lt;mount&gt;/contract.d.ts</c>; <see langword="null"/> without a contract.</summary>
    internal ClientScript? ContractDeclarations => _contractDeclarations;

    /// <summary>Queues a contract event for every connected client (see <see cref="SendAll(string, object?)"/>).</summary>
    /// <param name="descriptor">The event: to the page, or both ways. Its delivery class, if it names one, applies.</param>
    /// <param name="data">The payload.</param>
    /// <returns>The number of clients it was queued for.</returns>
    /// <exception cref="ArgumentException">The event goes only from the page to the server.</exception>
    public int SendAll<T>(VizEvent<T> descriptor, T data)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.ThrowUnlessServerSends();
        return SendAll(descriptor.Name, data, descriptor.Delivery ?? _hub.DeliveryOf(descriptor.Name));
    }

    /// <summary>Sends a contract event to every connected client and completes when every socket has taken it (see <see cref="SendAllAsync(string, object?, CancellationToken)"/>).</summary>
    /// <returns>How many clients it was written to.</returns>
    /// <exception cref="ArgumentException">The event goes only from the page to the server.</exception>
    public Task<int> SendAllAsync<T>(VizEvent<T> descriptor, T data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.ThrowUnlessServerSends();
        return SendAllAsync(descriptor.Name, data, cancellationToken);
    }

    /// <summary>
    /// Calls <paramref name="handler"/> for every contract event of this kind from a page, its data bound to
    /// <typeparamref name="T"/> (see <see cref="OnMessage{T}(string, Action{T, VizMessageEvent})"/>).
    /// </summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    /// <exception cref="ArgumentException">The event goes only from the server to the page, so it would never arrive.</exception>
    public IDisposable OnMessage<T>(VizEvent<T> descriptor, Action<T, VizMessageEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.ThrowUnlessPageSends();
        return OnMessage(descriptor.Name, handler);
    }

    /// <summary>As <see cref="OnMessage{T}(VizEvent{T}, Action{T, VizMessageEvent})"/>, with an asynchronous handler (see <see cref="OnMessage{T}(string, Func{T, VizMessageEvent, ValueTask})"/>).</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    /// <exception cref="ArgumentException">The event goes only from the server to the page, so it would never arrive.</exception>
    public IDisposable OnMessage<T>(VizEvent<T> descriptor, Func<T, VizMessageEvent, ValueTask> handler)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.ThrowUnlessPageSends();
        return OnMessage(descriptor.Name, handler);
    }
}
