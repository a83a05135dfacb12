using System.Buffers.Text;
using VizHtml.LoadGen.Net;

namespace VizHtml.LoadGen.Protocols;

/// <summary>
/// VizHtml protocol v2 with batching announced: a frame holds one envelope or a JSON array of them. Every numbered
/// envelope (<c>{"seq":</c> at the top level, which the server writes first) is one delivery; the highest seq is acknowledged as vizhtml.js
/// does it: once 128 events or 256 KB of frames are unacknowledged (decided once per frame) or after 1 s.
/// </summary>
internal sealed class VizHtmlAdapter : ProtocolAdapter
{
    // vizhtml.js's cadence; LOADGEN_ACK_MS and LOADGEN_ACK_EVENTS change it for an experiment (never in a reported run).
    private static readonly long AckEveryNs = 1_000_000L * (int.TryParse(Environment.GetEnvironmentVariable("LOADGEN_ACK_MS"), out var ms) ? ms : 1000);
    private static readonly int AckEveryEvents = int.TryParse(Environment.GetEnvironmentVariable("LOADGEN_ACK_EVENTS"), out var events) ? events : 128;
    private const int AckEveryBytes = 256 * 1024;

    public override string Path => "/vizhtml/socket?v=2";

    public override void OnUpgraded(Reactor reactor, Connection connection) =>
        reactor.SendText(connection, """{"event":"$hello","data":{"v":2,"token":null,"lastSeq":0,"batch":true}}"""u8);

    public override void OnMessage(Reactor reactor, Connection connection, ReadOnlySpan<byte> message)
    {
        if (connection.State == ConnectionState.Handshaking)
        {
            if (message.IndexOf("\"$welcome\""u8) >= 0)
            {
                connection.LastKeepAliveNs = reactor.NowNs;
                reactor.MarkOpen(connection);
            }

            return;
        }

        ReadOnlySpan<byte> marker = "{\"seq\":"u8;
        var count = 0;
        var last = -1;
        var position = 0;
        while (true)
        {
            var found = message[position..].IndexOf(marker);
            if (found < 0)
            {
                break;
            }

            var at = position + found;
            position = at + marker.Length;

            // {"seq": after a colon is the data of an $ack, not an envelope of its own.
            if (at > 0 && message[at - 1] == (byte)':')
            {
                continue;
            }

            last = at;
            count++;
            if (reactor.WantsPayloads)
            {
                var data = message[position..].IndexOf("\"data\":\""u8);
                if (data >= 0)
                {
                    reactor.Deliver(connection, message[(position + data + 8)..]);
                }
            }
        }

        if (count == 0)
        {
            return;
        }

        if (!reactor.WantsPayloads)
        {
            reactor.Deliver(connection, count);
        }

        if (Utf8Parser.TryParse(message[(last + marker.Length)..], out long seq, out _) && seq > connection.LastSeq)
        {
            connection.LastSeq = seq;
        }

        connection.UnackedBytes += message.Length;
        if (connection.LastSeq - connection.AckedSeq >= AckEveryEvents || connection.UnackedBytes >= AckEveryBytes)
        {
            SendAck(reactor, connection, reactor.NowNs);
        }
    }

    public override void OnTick(Reactor reactor, Connection connection, long nowNs)
    {
        if (connection.LastSeq > connection.AckedSeq && nowNs - connection.LastKeepAliveNs >= AckEveryNs)
        {
            SendAck(reactor, connection, nowNs);
        }
    }

    public override int FormatEcho(Span<byte> destination, ReadOnlySpan<byte> payload, Connection connection)
    {
        // A v2 client numbers what it sends, as vizhtml.js does.
        var length = Concat(destination, "{\"event\":\"echo\",\"data\":\""u8, payload, "\",\"seq\":"u8);
        Utf8Formatter.TryFormat(++connection.ClientSeq, destination[length..], out var written);
        length += written;
        destination[length++] = (byte)'}';
        return length;
    }

    private static void SendAck(Reactor reactor, Connection connection, long nowNs)
    {
        var text = reactor.TextScratch;
        var length = Concat(text, """{"event":"$ack","data":{"seq":"""u8, default);
        Utf8Formatter.TryFormat(connection.LastSeq, text[length..], out var written);
        length += written;
        "}}"u8.CopyTo(text[length..]);
        length += 2;
        connection.AckedSeq = connection.LastSeq;
        connection.UnackedBytes = 0;
        connection.LastKeepAliveNs = nowNs;
        reactor.SendText(connection, text[..length]);
    }
}
