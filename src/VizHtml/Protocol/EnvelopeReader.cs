using System.Text.Json;
using System.Text.Json.Nodes;

namespace VizHtml.Protocol;

/// <summary>The outcome of decoding one inbound text message.</summary>
/// <remarks><see cref="Req"/>: a request's id (<c>req</c>), 0 for none, -1 for a <c>req</c> that is not a positive whole number.</remarks>
internal readonly partial record struct InboundEnvelope(string? EventName, JsonNode? Data, string? ErrorCode, string? ErrorMessage, long Seq = 0, long AckSeq = -1, long Req = 0)
{
    public bool IsValid => ErrorCode is null;

    /// <summary>A protocol message (<c>$hello</c>, <c>$ack</c>) rather than an application event.</summary>
    public bool IsControl => EventName is { Length: > 0 } name && name[0] == Envelope.ReservedPrefix;
}

/// <summary>
/// Decodes inbound frames. Strict on shape (a JSON object with a string <c>event</c>), lenient on
/// order and on unknown members so later protocol versions can add fields.
/// </summary>
internal sealed class EnvelopeReader
{
    private readonly JsonDocumentOptions _documentOptions;

    public EnvelopeReader(int maxDepth)
    {
        // Duplicate keys are refused up front: a bag with two "count" members has no honest meaning.
        _documentOptions = new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false };
    }

    public InboundEnvelope Read(ReadOnlyMemory<byte> utf8)
    {
        // The most frequent message of a busy version 2 client, in the exact form every VizHtml client writes, is read
        // without building a document; any other form takes the general path below.
        if (TryReadAck(utf8.Span, out var ack))
        {
            return new InboundEnvelope(Envelope.AckEvent, null, null, null, AckSeq: ack);
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(utf8.Span, nodeOptions: null, _documentOptions);
        }
        catch (JsonException ex)
        {
            return Error(ProtocolErrors.InvalidJson, $"message is not valid JSON: {ex.Message}");
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses escaped lone surrogates ("\ud800") in property names this way.
            return Error(ProtocolErrors.InvalidJson, "message contains an escaped lone surrogate, which is not valid Unicode text");
        }

        // A number like 1e2147483648 is legal JSON but cannot be compared or converted; refuse it rather than let it reach a handler.
        if (HasHugeExponent(utf8.Span))
        {
            return Error(ProtocolErrors.InvalidJson, "message contains a number whose exponent is out of range");
        }

        // Text with an escaped lone surrogate parses but can never be written back; refuse it here, not in a handler.
        if (HasEscapedSurrogate(utf8.Span) && !IsWritable(root))
        {
            return Error(ProtocolErrors.InvalidJson, "message contains an escaped lone surrogate, which is not valid Unicode text");
        }

        if (root is not JsonObject obj)
        {
            return Error(ProtocolErrors.InvalidEnvelope, "message must be a JSON object {\"event\": name, \"data\": value}");
        }

        if (!obj.TryGetPropertyValue("event", out var eventNode) || eventNode is not JsonValue eventValue
            || eventValue.GetValueKind() != JsonValueKind.String)
        {
            return Error(ProtocolErrors.InvalidEnvelope, "message has no string member \"event\"");
        }

        var name = eventValue.GetValue<string>();
        if (!Envelope.IsClientControlEvent(name) && Envelope.ValidateEventName(name) is { } problem)
        {
            return Error(ProtocolErrors.InvalidEventName, problem);
        }

        long seq = 0;
        if (obj.TryGetPropertyValue("seq", out var seqNode)
            && (seqNode is not JsonValue seqValue || seqValue.GetValueKind() != JsonValueKind.Number || !seqValue.TryGetValue(out seq) || seq < 1))
        {
            return Error(ProtocolErrors.InvalidEnvelope, "\"seq\" must be a positive integer");
        }

        // Only a client granted requests asks for an answer; any other ignores the member, as before requests existed.
        var req = obj.TryGetPropertyValue("req", out var reqNode) ? RequestEnvelope.ReadId(reqNode) ?? -1 : 0;
        obj.TryGetPropertyValue("data", out var data);

        // Detach so the application's value does not keep the whole envelope alive.
        obj.Remove("data");
        return new InboundEnvelope(name, data, null, null, seq, Req: req);
    }

    private static InboundEnvelope Error(string code, string message) => new(null, null, code, message);

    // A cheap pre-check: only text with a \\uD800-\\uDFFF escape needs the full write-back test.
    private static bool HasEscapedSurrogate(ReadOnlySpan<byte> utf8)
    {
        for (var i = utf8.IndexOf("\\u"u8); i >= 0 && i + 3 < utf8.Length; )
        {
            if ((utf8[i + 2] | 0x20) == (byte)'d' && (utf8[i + 3] | 0x20) is >= (byte)'8' and <= (byte)'f')
            {
                return true;
            }

            var next = utf8[(i + 2)..].IndexOf("\\u"u8);
            i = next < 0 ? -1 : i + 2 + next;
        }

        return false;
    }

    /// <summary>Whether a number token has an exponent of five or more digits (a cheap byte scan first, then the tokens).</summary>
    private static bool HasHugeExponent(ReadOnlySpan<byte> utf8)
    {
        if (!LongExponentIn(utf8))
        {
            return false;
        }

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 1000 });
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.Number && LongExponentIn(reader.ValueSpan))
            {
                return true;
            }
        }

        return false;
    }

    private static bool LongExponentIn(ReadOnlySpan<byte> text)
    {
        for (var i = 1; i < text.Length; i++)
        {
            if ((text[i] | 0x20) != (byte)'e' || !(char.IsAsciiDigit((char)text[i - 1]) || text[i - 1] == (byte)'.'))
            {
                continue;
            }

            var at = i + 1;
            if (at < text.Length && text[at] is (byte)'+' or (byte)'-')
            {
                at++;
            }

            var digits = 0;
            while (at < text.Length && char.IsAsciiDigit((char)text[at]))
            {
                digits++;
                at++;
            }

            if (digits >= 5)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsWritable(JsonNode? node)
    {
        try
        {
            _ = node?.ToJsonString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Recognizes <c>{"event":"$ack","data":{"seq":N}}</c> exactly, N a JSON integer without sign or leading zero.</summary>
    internal static bool TryReadAck(ReadOnlySpan<byte> utf8, out long seq)
    {
        var head = Envelope.AckHead;
        seq = 0;
        if (!utf8.StartsWith(head) || !utf8.EndsWith("}}"u8))
        {
            return false;
        }

        var digits = utf8[head.Length..^2];
        if (digits.Length is 0 or > 18 || (digits[0] == (byte)'0' && digits.Length > 1))
        {
            return false;
        }

        foreach (var digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            seq = (seq * 10) + (digit - '0');
        }

        return true;
    }
}

/// <summary>Codes carried in <c>$error</c> events; documented in docs/protocol.md.</summary>
internal static class ProtocolErrors
{
    public const string InvalidJson = "invalid_json";
    public const string InvalidEnvelope = "invalid_envelope";
    public const string InvalidEventName = "invalid_event_name";
    public const string InvalidData = "invalid_data";
    public const string RateLimited = "rate_limited";
}
