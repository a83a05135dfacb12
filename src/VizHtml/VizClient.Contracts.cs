namespace VizHtml;

// Typed sends from contract descriptors (VizEvent).
public sealed partial class VizClient
{
    /// <summary>Queues a contract event for this client and returns at once (see <see cref="Send(string, object?)"/>).</summary>
    /// <param name="descriptor">The event: to the page, or both ways. Its delivery class, if it names one, applies.</param>
    /// <param name="data">The payload.</param>
    /// <returns>As <see cref="Send(string, object?)"/>.</returns>
    /// <exception cref="ArgumentException">The event goes only from the page to the server.</exception>
    public bool Send<T>(VizEvent<T> descriptor, T data)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.ThrowUnlessServerSends();
        return Send(descriptor.Name, data, descriptor.Delivery ?? _session.Hub.DeliveryOf(descriptor.Name));
    }

    /// <summary>Queues a contract event and completes when it has been written to the socket (see <see cref="SendAsync(string, object?, CancellationToken)"/>).</summary>
    /// <returns>As <see cref="SendAsync(string, object?, CancellationToken)"/>.</returns>
    /// <exception cref="ArgumentException">The event goes only from the page to the server.</exception>
    public Task<bool> SendAsync<T>(VizEvent<T> descriptor, T data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.ThrowUnlessServerSends();
        return SendAsync(descriptor.Name, data, cancellationToken);
    }
}
