using System.Text.Json;
using System.Text.Json.Nodes;

namespace VizHtml.Protocol;

/// <summary>The outcome of decoding one inbound text message.</summary>
/// <remarks><see cref="Req"/>: a request's id (<c>req</c>), 0 for none, -1 for a <c>req</c> that is not a positive whole number.
/// <see cref="Data"/>: the <c>data</c> member, null when absent; a received value builds its tree when first read.</remarks>
internal readonly partial record struct InboundEnvelope(string? EventName, VizData? Data, string? ErrorCode, string? ErrorMessage, long Seq = 0, long AckSeq = -1, long Req = 0)
{
    public bool IsValid => ErrorCode is null;

    /// <summary>A protocol message (<c>$hello</c>, <c>$ack</c>) rather than an application event.</summary>
    public bool IsControl => EventName is { Length: > 0 } name && name[0] == Envelope.ReservedPrefix;

    /// <summary>The data as a JSON tree (null for none or JSON <c>null</c>).</summary>
    public JsonNode? DataNode => Data?.Node;

    /// <summary>The data as a handler receives it: JSON <c>null</c> when there is none.</summary>
    public VizData Payload => Data ?? VizData.Null;
}

/// <summary>
/// Decodes inbound frames. Strict on shape (a JSON object with a string <c>event</c>), lenient on
/// order and on unknown members so later protocol versions can add fields.
/// </summary>
internal sealed class EnvelopeReader
{
    // The fast pass tracks every open object's member names; messages past these bounds take the general path.
    private const int MaxTrackedDepth = 128;
    private const int MaxTrackedNames = 256;
    private const int MaxMembersCompared = 32;

    // Recently read event names, so the names a program uses over and over are not decoded and allocated per message. One
    // reader serves every connection: each slot holds an immutable entry, replaced whole, so a race only costs a miss.
    private const int NameSlots = 32;
    private const int MaxCachedNameBytes = 64;
    private readonly CachedName?[] _names = new CachedName?[NameSlots];

    private readonly JsonDocumentOptions _documentOptions;
    private readonly JsonReaderOptions _readerOptions;

    public EnvelopeReader(int maxDepth)
    {
        // Duplicate keys are refused up front: a bag with two "count" members has no honest meaning.
        _documentOptions = new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false };
        _readerOptions = new JsonReaderOptions { MaxDepth = maxDepth };
    }

    public InboundEnvelope Read(ReadOnlyMemory<byte> utf8)
    {
        // The most frequent message of a busy version 2 client, in the exact form every VizHtml client writes, is read
        // without building a document; any other form takes the general path below.
        if (TryReadAck(utf8.Span, out var ack))
        {
            return new InboundEnvelope(Envelope.AckEvent, null, null, null, AckSeq: ack);
        }

        // Any other message in the usual form is checked in one pass of the reader, which keeps the data as text; anything
        // out of the ordinary (invalid JSON, a duplicate or escaped member name, escaped surrogates, very wide or deep
        // objects) is decided by the general path below, so each refusal reads exactly as it always has.
        return TryReadOnePass(utf8, out var envelope) ? envelope : ReadGeneral(utf8);
    }

    /// <summary>The general path alone: the whole message as a JSON tree. The fuzz invariants compare it with the one pass.</summary>
    internal InboundEnvelope ReadGeneral(ReadOnlyMemory<byte> utf8)
    {
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
        return new InboundEnvelope(name, data is null ? null : VizData.FromNode(data), null, null, seq, Req: req);
    }

    /// <summary>
    /// One pass of <see cref="Utf8JsonReader"/> that validates the whole message (syntax, depth, no duplicate member name at
    /// any depth) and takes the envelope's members on the way; the data is kept as its text. False, with nothing decided,
    /// for anything the general path must judge.
    /// </summary>
    internal bool TryReadOnePass(ReadOnlyMemory<byte> message, out InboundEnvelope envelope)
    {
        var utf8 = message.Span;
        envelope = default;
        if (utf8.IsEmpty || utf8[0] != (byte)'{')
        {
            return false;
        }

        Span<int> objectStart = stackalloc int[MaxTrackedDepth];
        Span<int> nameStart = stackalloc int[MaxTrackedNames];
        Span<int> nameLength = stackalloc int[MaxTrackedNames];
        var names = 0;

        string? name = null;
        var eventIsString = false;
        var hasEvent = false;
        long seq = 0;
        var seqValid = true;
        long req = 0;
        int dataStart = -1, dataEnd = -1, dataDepth = -1;
        var dataIsNull = false;
        var member = Member.None;

        var reader = new Utf8JsonReader(utf8, _readerOptions);
        try
        {
            while (reader.Read())
            {
                var depth = reader.CurrentDepth;
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        if (depth >= MaxTrackedDepth)
                        {
                            return false;
                        }

                        // Arrays keep a frame too, so each object inside one starts a name list of its own.
                        objectStart[depth] = names;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        names = objectStart[depth];
                        break;

                    // The general path refuses an escaped lone surrogate (it cannot be written back) and a number like
                    // 1e2147483648 (legal JSON that cannot be compared or converted); the tokens are checked as they pass.
                    case JsonTokenType.String when reader.ValueIsEscaped && HasEscapedSurrogate(reader.ValueSpan):
                    case JsonTokenType.Number when LongExponentIn(reader.ValueSpan):
                        return false;
                    case JsonTokenType.PropertyName:
                        // An escaped name (even "\u0061" for "a") is compared unescaped by the general path.
                        if (reader.ValueIsEscaped || names == MaxTrackedNames || names - objectStart[depth - 1] >= MaxMembersCompared)
                        {
                            return false;
                        }

                        var start = (int)reader.TokenStartIndex + 1;
                        var text = reader.ValueSpan;
                        for (var i = objectStart[depth - 1]; i < names; i++)
                        {
                            if (utf8.Slice(nameStart[i], nameLength[i]).SequenceEqual(text))
                            {
                                return false;
                            }
                        }

                        nameStart[names] = start;
                        nameLength[names++] = text.Length;
                        member = depth == 1 ? Classify(text) : Member.None;
                        continue;
                }

                if (member != Member.None)
                {
                    // The value of one of the envelope's own members (its first token, for an object or array).
                    switch (member)
                    {
                        case Member.Event:
                            hasEvent = true;
                            eventIsString = reader.TokenType == JsonTokenType.String;
                            name = eventIsString ? EventNameOf(ref reader) : null;
                            break;
                        case Member.Seq:
                            seqValid = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out seq) && seq >= 1;
                            break;
                        case Member.Req:
                            req = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var id) && id > 0 ? id : -1;
                            break;
                        case Member.Data:
                            dataStart = (int)reader.TokenStartIndex;
                            dataIsNull = reader.TokenType == JsonTokenType.Null;
                            dataDepth = depth;
                            break;
                    }

                    member = Member.None;
                }

                if (dataDepth == depth && dataEnd < 0 && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
                {
                    // The data's last token: a primitive, or the end of its object or array.
                    dataEnd = (int)reader.BytesConsumed;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false;
        }

        if (!hasEvent || !eventIsString)
        {
            envelope = Error(ProtocolErrors.InvalidEnvelope, "message has no string member \"event\"");
            return true;
        }

        if (!Envelope.IsClientControlEvent(name!) && Envelope.ValidateEventName(name!) is { } problem)
        {
            envelope = Error(ProtocolErrors.InvalidEventName, problem);
            return true;
        }

        if (!seqValid)
        {
            envelope = Error(ProtocolErrors.InvalidEnvelope, "\"seq\" must be a positive integer");
            return true;
        }

        var data = dataStart < 0 || dataIsNull ? null : VizData.FromReceived(utf8[dataStart..dataEnd].ToArray(), _documentOptions.MaxDepth);
        envelope = new InboundEnvelope(name, data, null, null, seq, Req: req);
        return true;
    }

    private string EventNameOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.ValueSpan.Length > MaxCachedNameBytes)
        {
            return reader.GetString()!;
        }

        var utf8 = reader.ValueSpan;
        var slot = (int)((uint)(utf8.Length * 31 + (utf8.IsEmpty ? 0 : utf8[0] + (utf8[^1] * 7))) % NameSlots);
        if (Volatile.Read(ref _names[slot]) is { } cached && utf8.SequenceEqual(cached.Utf8))
        {
            return cached.Name;
        }

        var name = reader.GetString()!;
        Volatile.Write(ref _names[slot], new CachedName(utf8.ToArray(), name));
        return name;
    }

    private sealed record CachedName(byte[] Utf8, string Name);

    private static Member Classify(ReadOnlySpan<byte> name) => name switch
    {
        _ when name.SequenceEqual("event"u8) => Member.Event,
        _ when name.SequenceEqual("data"u8) => Member.Data,
        _ when name.SequenceEqual("seq"u8) => Member.Seq,
        _ when name.SequenceEqual("req"u8) => Member.Req,
        _ => Member.None,
    };

    private enum Member
    {
        None,
        Event,
        Data,
        Seq,
        Req,
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
