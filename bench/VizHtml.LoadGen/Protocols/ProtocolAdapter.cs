using VizHtml.LoadGen.Net;

namespace VizHtml.LoadGen.Protocols;

/// <summary>
/// What one server family says over its WebSocket: the endpoint, the handshake after the upgrade, how deliveries are
/// counted in a received message and how an echo request looks. Adapters hold no state of their own (it lives in
/// <see cref="Connection"/>), so one instance serves every connection.
/// </summary>
internal abstract class ProtocolAdapter
{
    /// <summary>Request target of the upgrade, e.g. <c>/ws</c>.</summary>
    public abstract string Path { get; }

    /// <summary>Called once the server answered 101; sends the protocol's hello, or marks the connection open.</summary>
    public virtual void OnUpgraded(Reactor reactor, Connection connection) => reactor.MarkOpen(connection);

    /// <summary>One complete text message from the server.</summary>
    public abstract void OnMessage(Reactor reactor, Connection connection, ReadOnlySpan<byte> message);

    /// <summary>Every ~50 ms for each open connection: acknowledgements and keep-alives.</summary>
    public virtual void OnTick(Reactor reactor, Connection connection, long nowNs)
    {
    }

    /// <summary>Writes the text of an echo request carrying <paramref name="payload"/>; returns its length.</summary>
    public abstract int FormatEcho(Span<byte> destination, ReadOnlySpan<byte> payload, Connection connection);

    /// <summary>Copies the pieces into <paramref name="destination"/> one after another and returns the total length.</summary>
    protected static int Concat(Span<byte> destination, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c = default)
    {
        a.CopyTo(destination);
        b.CopyTo(destination[a.Length..]);
        c.CopyTo(destination[(a.Length + b.Length)..]);
        return a.Length + b.Length + c.Length;
    }
}

/// <summary>Node <c>ws</c>, Bun and the raw-Kestrel baseline: one text frame is one delivery, the payload alone.</summary>
internal sealed class PlainAdapter : ProtocolAdapter
{
    public override string Path => "/ws";

    public override void OnMessage(Reactor reactor, Connection connection, ReadOnlySpan<byte> message)
    {
        if (connection.State == ConnectionState.Open)
        {
            reactor.Deliver(connection, message);
        }
    }

    public override int FormatEcho(Span<byte> destination, ReadOnlySpan<byte> payload, Connection connection)
    {
        payload.CopyTo(destination);
        return payload.Length;
    }
}
