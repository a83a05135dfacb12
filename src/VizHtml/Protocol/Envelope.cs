using System.Text.Json;

namespace VizHtml.Protocol;

/// <summary>
/// The wire names: every frame is <c>{"event": name, "data": value}</c>, plus <c>seq</c> and the <c>$</c> control
/// events of protocol version 2 (docs/protocol.md).
/// </summary>
internal static class Envelope
{
    public static readonly JsonEncodedText EventProperty = JsonEncodedText.Encode("event");
    public static readonly JsonEncodedText DataProperty = JsonEncodedText.Encode("data");

    /// <summary>Names that start with this character belong to the protocol, never to the application.</summary>
    public const char ReservedPrefix = '$';

    /// <summary>The event the server sends when it rejects something a client sent.</summary>
    public const string ErrorEvent = "$error";

    /// <summary>Version 2: the client's first message, asking for a new session or to resume one.</summary>
    public const string HelloEvent = "$hello";

    /// <summary>Version 2: the server's answer to <see cref="HelloEvent"/>.</summary>
    public const string WelcomeEvent = "$welcome";

    /// <summary>Version 2: a cumulative acknowledgement, both ways.</summary>
    public const string AckEvent = "$ack";

    /// <summary>Version 2: sent by the server to a quiet connection so the browser can tell a silent server from a dead one.</summary>
    public const string HeartbeatEvent = "$heartbeat";

    /// <summary>
    /// The close code a version 2 client uses when it gives up on a connection itself (the server fell silent): browsers
    /// cannot drop a socket without a close frame, so this close keeps the session resumable, unlike 1000 or 1001.
    /// </summary>
    public const int ResumableCloseStatus = 4000;

    /// <summary>How every VizHtml client and the server write an <c>$ack</c>, up to its number: <c>{"event":"$ack","data":{"seq":N}}</c>.</summary>
    public static ReadOnlySpan<byte> AckHead => """{"event":"$ack","data":{"seq":"""u8;

    /// <summary>The <c>$ack</c> envelope for everything up to <paramref name="seq"/>, written without a serializer.</summary>
    public static byte[] Ack(long seq)
    {
        Span<byte> text = stackalloc byte[64];
        AckHead.CopyTo(text);
        seq.TryFormat(text[AckHead.Length..], out var digits, provider: System.Globalization.CultureInfo.InvariantCulture);
        var at = AckHead.Length + digits;
        text[at++] = (byte)'}';
        text[at++] = (byte)'}';
        return text[..at].ToArray();
    }

    /// <summary>The protocol messages a client may send.</summary>
    public static bool IsClientControlEvent(string name) => name is HelloEvent or AckEvent or RequestEnvelope.ReplyEvent;

    /// <summary>Longest event name accepted, in UTF-16 characters.</summary>
    public const int MaxEventNameLength = 256;

    /// <summary>Checks an application event name: non-empty, not reserved, no control characters, bounded length.</summary>
    public static string? ValidateEventName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "event name is empty";
        }

        if (name.Length > MaxEventNameLength)
        {
            return $"event name is longer than {MaxEventNameLength} characters";
        }

        if (name[0] == ReservedPrefix)
        {
            return $"event names starting with '{ReservedPrefix}' are reserved for the protocol";
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return "event name contains a control character";
            }
        }

        return null;
    }

    /// <summary>A non-negative whole number field of a control envelope's data (<c>seq</c>, <c>lastSeq</c>), or null.</summary>
    public static long? ReadSeq(System.Text.Json.Nodes.JsonNode? data, string name) =>
        (data as System.Text.Json.Nodes.JsonObject)?[name] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<long>(out var n) && n >= 0 ? n
        : (data as System.Text.Json.Nodes.JsonObject)?[name] is System.Text.Json.Nodes.JsonValue e && e.TryGetValue<JsonElement>(out var el) && el.TryGetInt64(out var m) && m >= 0 ? m
        : null;
}
