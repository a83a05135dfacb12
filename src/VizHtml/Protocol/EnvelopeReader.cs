using System.Text.Json;
using System.Text.Json.Nodes;

namespace VizHtml.Protocol;

/// <summary>The outcome of decoding one inbound text message.</summary>
internal readonly record struct InboundEnvelope(string? EventName, JsonNode? Data, string? ErrorCode, string? ErrorMessage, long Seq = 0)
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
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(utf8.Span, nodeOptions: null, _documentOptions);
        }
        catch (JsonException ex)
        {
            return Error(ProtocolErrors.InvalidJson, $"message is not valid JSON: {ex.Message}");
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

        obj.TryGetPropertyValue("data", out var data);

        // Detach so the application's value does not keep the whole envelope alive.
        obj.Remove("data");
        return new InboundEnvelope(name, data, null, null, seq);
    }

    private static InboundEnvelope Error(string code, string message) => new(null, null, code, message);
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
