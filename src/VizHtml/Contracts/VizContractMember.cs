using VizHtml.Protocol;

namespace VizHtml;

/// <summary>
/// One named event (<see cref="VizEvent{T}"/>) or request (<see cref="VizCall{TRequest, TResponse}"/>) of a contract:
/// its wire name, its direction and its payload types. Immutable; made by <see cref="VizEvent"/> and <see cref="VizCall"/>.
/// </summary>
public abstract class VizContractMember
{
    private protected VizContractMember(string name, VizDirection direction, Type dataType, Type? responseType)
    {
        if (Envelope.ValidateEventName(name) is { } problem)
        {
            throw new ArgumentException($"Invalid event name '{name}': {problem}.", nameof(name));
        }

        if (direction is not (VizDirection.ToPage or VizDirection.ToServer or VizDirection.Both))
        {
            throw new ArgumentOutOfRangeException(nameof(direction), direction, "Not a VizDirection.");
        }

        Name = name;
        Direction = direction;
        DataType = dataType;
        ResponseType = responseType;
    }

    /// <summary>The name on the wire: what <c>onevent</c>, <c>send</c>, <c>request</c> and <c>onrequest</c> use on the page (case-sensitive).</summary>
    public string Name { get; }

    /// <summary>Which way it goes.</summary>
    public VizDirection Direction { get; }

    /// <summary>An event's payload type, or a request's.</summary>
    internal Type DataType { get; }

    /// <summary>A request's answer type; <see langword="null"/> for an event.</summary>
    internal Type? ResponseType { get; }

    /// <summary>The delivery class an event names for the server's sends; <see langword="null"/> for none (and for requests).</summary>
    internal virtual VizDelivery? DeliveryClass => null;

    /// <summary>Whether this is a request (<see cref="VizCall{TRequest, TResponse}"/>) rather than an event.</summary>
    internal bool IsCall => ResponseType is not null;

    /// <summary>Whether the page may send it (or make the request).</summary>
    internal bool PageSends => Direction is VizDirection.ToServer or VizDirection.Both;

    /// <summary>Whether the server may send it (or make the request).</summary>
    internal bool ServerSends => Direction is VizDirection.ToPage or VizDirection.Both;

    /// <summary>Throws unless the server may send it: a typed send of a page-to-server event is a mistake in the program.</summary>
    internal void ThrowUnlessServerSends()
    {
        if (!ServerSends)
        {
            throw new ArgumentException($"'{Name}' is declared {Direction} (from the page to the server): the server cannot send it.", "descriptor");
        }
    }

    /// <summary>Throws unless the page may send it: a handler for a server-to-page event would never run.</summary>
    internal void ThrowUnlessPageSends()
    {
        if (!PageSends)
        {
            throw new ArgumentException($"'{Name}' is declared {Direction} (from the server to the page): the server never receives it.", "descriptor");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Direction})";
}
