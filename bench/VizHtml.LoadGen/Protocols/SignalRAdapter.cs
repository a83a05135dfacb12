using VizHtml.LoadGen.Net;

namespace VizHtml.LoadGen.Protocols;

/// <summary>
/// ASP.NET Core SignalR, JSON hub protocol, WebSocket transport without negotiate. Records end with 0x1e and several
/// may share a frame (SignalR coalesces); each invocation record (type 1) is one delivery. A ping (type 6) goes out
/// every 5 s so the server's 30 s client timeout never fires on idle connections.
/// </summary>
internal sealed class SignalRAdapter : ProtocolAdapter
{
    private const byte RecordSeparator = 0x1e;
    private const long PingEveryNs = 5_000_000_000;

    public override string Path => "/hub";

    public override void OnUpgraded(Reactor reactor, Connection connection) =>
        reactor.SendText(connection, "{\"protocol\":\"json\",\"version\":1}\u001e"u8);

    public override void OnMessage(Reactor reactor, Connection connection, ReadOnlySpan<byte> message)
    {
        var count = 0;
        while (!message.IsEmpty)
        {
            var end = message.IndexOf(RecordSeparator);
            var record = end < 0 ? message : message[..end];
            message = end < 0 ? default : message[(end + 1)..];
            if (connection.State == ConnectionState.Handshaking)
            {
                if (record.SequenceEqual("{}"u8))
                {
                    connection.LastKeepAliveNs = reactor.NowNs;
                    reactor.MarkOpen(connection);
                }
                else
                {
                    reactor.Fail(connection, "SignalR handshake refused: " + System.Text.Encoding.UTF8.GetString(record));
                    return;
                }

                continue;
            }

            // The JSON hub protocol writes "type" first.
            if (record.StartsWith("{\"type\":1,"u8))
            {
                if (reactor.WantsPayloads)
                {
                    var arguments = record.IndexOf("\"arguments\":[\""u8);
                    reactor.Deliver(connection, arguments < 0 ? default : record[(arguments + 14)..]);
                }
                else
                {
                    count++;
                }
            }
        }

        if (count > 0)
        {
            reactor.Deliver(connection, count);
        }
    }

    public override void OnTick(Reactor reactor, Connection connection, long nowNs)
    {
        if (nowNs - connection.LastKeepAliveNs >= PingEveryNs)
        {
            connection.LastKeepAliveNs = nowNs;
            reactor.SendText(connection, "{\"type\":6}\u001e"u8);
        }
    }

    public override int FormatEcho(Span<byte> destination, ReadOnlySpan<byte> payload, Connection connection) =>
        Concat(destination, "{\"type\":1,\"target\":\"Echo\",\"arguments\":[\""u8, payload, "\"]}\u001e"u8);
}
