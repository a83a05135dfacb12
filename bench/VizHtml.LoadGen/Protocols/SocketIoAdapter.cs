using VizHtml.LoadGen.Net;

namespace VizHtml.LoadGen.Protocols;

/// <summary>
/// Socket.IO v4 over Engine.IO 4, WebSocket transport only. Handshake: the server's open packet <c>0{...}</c>, our
/// connect <c>40</c>, its connect ack <c>40{...}</c>. Each event packet <c>42[...]</c> is one delivery; ping <c>2</c>
/// is answered with pong <c>3</c>.
/// </summary>
internal sealed class SocketIoAdapter : ProtocolAdapter
{
    public override string Path => "/socket.io/?EIO=4&transport=websocket";

    public override void OnUpgraded(Reactor reactor, Connection connection)
    {
        // Wait for the Engine.IO open packet.
    }

    public override void OnMessage(Reactor reactor, Connection connection, ReadOnlySpan<byte> message)
    {
        if (message.IsEmpty)
        {
            return;
        }

        if (message[0] == (byte)'2' && message.Length == 1)
        {
            reactor.SendText(connection, "3"u8);
            return;
        }

        if (connection.State == ConnectionState.Handshaking)
        {
            if (message[0] == (byte)'0' && connection.HandshakeStep == 0)
            {
                connection.HandshakeStep = 1;
                reactor.SendText(connection, "40"u8);
            }
            else if (message.StartsWith("40"u8) && connection.HandshakeStep == 1)
            {
                reactor.MarkOpen(connection);
            }
            else if (message.StartsWith("44"u8))
            {
                reactor.Fail(connection, "socket.io connect refused: " + System.Text.Encoding.UTF8.GetString(message));
            }

            return;
        }

        if (message.StartsWith("42"u8))
        {
            if (reactor.WantsPayloads)
            {
                // 42["b","P"]: the payload starts after the first "," of the array.
                var comma = message.IndexOf("\",\""u8);
                reactor.Deliver(connection, comma < 0 ? default : message[(comma + 3)..]);
            }
            else
            {
                reactor.Deliver(connection, 1);
            }
        }
    }

    public override int FormatEcho(Span<byte> destination, ReadOnlySpan<byte> payload, Connection connection) =>
        Concat(destination, "42[\"echo\",\""u8, payload, "\"]"u8);
}
