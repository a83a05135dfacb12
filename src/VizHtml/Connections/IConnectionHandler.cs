using VizHtml.Protocol;

namespace VizHtml.Connections;

/// <summary>
/// What a connection's read loop hands decoded envelopes to: the session layer, which knows whose connection it is.
/// A connection never calls user code; its handler posts to the dispatcher.
/// </summary>
internal interface IConnectionHandler
{
    /// <summary>
    /// Whether the peer's messages are numbered (protocol version 2): a flood is then slowed down by not reading
    /// (TCP backpressure) instead of dropping messages, which would break the numbering.
    /// </summary>
    bool ThrottlesInsteadOfDropping { get; }

    /// <summary>One valid envelope from the peer, in arrival order, on the read loop's thread.</summary>
    /// <returns>
    /// Whether it queued something with <see cref="Wake.Deferred"/> (an <c>$ack</c>, a welcome): the read loop then wakes the
    /// writer once this returns. Most envelopes (acknowledgements, version 1 messages) leave nothing waiting.
    /// </returns>
    bool OnEnvelope(Connection connection, InboundEnvelope envelope);
}
