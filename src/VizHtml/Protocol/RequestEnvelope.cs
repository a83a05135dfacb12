using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VizHtml.Protocol;

/// <summary>
/// Requests (protocol version 2 with the <c>requests</c> capability, docs/protocol.md): a request is an event with a
/// <c>req</c> member, <c>{"event":"confirm","data":…,"req":9}</c>, and its answer the event <c>$reply</c>,
/// <c>{"event":"$reply","data":{"req":9,"value":…}}</c> or <c>{"event":"$reply","data":{"req":9,"error":{"code":…,"message":…}}}</c>.
/// Written here for both sides (the server and <c>VizHtmlClient</c>); both are reliable, numbered events.
/// </summary>
internal static class RequestEnvelope
{
    /// <summary>The answer to a request, either way.</summary>
    public const string ReplyEvent = "$reply";

    /// <summary>The capability member of <c>$hello</c> and <c>$welcome</c>.</summary>
    public const string Capability = "requests";

    /// <summary>A request: the event <paramref name="eventName"/> with <c>req</c> (and <c>seq</c> when positive, a client's numbering).</summary>
    public static byte[] Request(string eventName, object? data, long req, JsonSerializerOptions options, long seq = 0)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder, SkipValidation = true }))
        {
            writer.WriteStartObject();
            writer.WriteString(Envelope.EventProperty, eventName);
            writer.WritePropertyName(Envelope.DataProperty);
            WriteValue(writer, data, options);
            WriteNumbers(writer, seq, req);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A <c>$reply</c> with a value.</summary>
    public static byte[] Reply(long req, object? value, JsonSerializerOptions options, long seq = 0) => Reply(req, value, null, null, options, seq);

    /// <summary>A <c>$reply</c> with an error.</summary>
    public static byte[] ReplyError(long req, string code, string message, long seq = 0) => Reply(req, null, code, message, JsonSerializerOptions.Default, seq);

    private static byte[] Reply(long req, object? value, string? code, string? message, JsonSerializerOptions options, long seq)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder, SkipValidation = true }))
        {
            writer.WriteStartObject();
            writer.WriteString(Envelope.EventProperty, ReplyEvent);
            writer.WriteStartObject(Envelope.DataProperty);
            writer.WriteNumber("req", req);
            if (code is null)
            {
                writer.WritePropertyName("value");
                WriteValue(writer, value, options);
            }
            else
            {
                writer.WriteStartObject("error");
                writer.WriteString("code", code);
                writer.WriteString("message", message);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            WriteNumbers(writer, seq, 0);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            JsonText.Write(writer, value, options);
        }
    }

    private static void WriteNumbers(Utf8JsonWriter writer, long seq, long req)
    {
        if (seq > 0)
        {
            writer.WriteNumber("seq", seq);
        }

        if (req > 0)
        {
            writer.WriteNumber("req", req);
        }
    }

    /// <summary>
    /// Reads a <c>$reply</c>'s data: its <c>req</c> and either <c>value</c> or <c>error</c> (a code and a message). Returns
    /// false for data without a positive whole <c>req</c>, or with an <c>error</c> that is not an object with a string <c>code</c>.
    /// </summary>
    public static bool TryReadReply(JsonNode? data, out RequestReply reply)
    {
        reply = default;
        if (data is not JsonObject obj || ReadId(obj["req"]) is not { } req)
        {
            return false;
        }

        if (!obj.TryGetPropertyValue("error", out var error))
        {
            obj.TryGetPropertyValue("value", out var value);

            // Detached, as an event's data is, so the answer does not keep the envelope alive.
            obj.Remove("value");
            reply = new RequestReply(req, value, null, null);
            return true;
        }

        if (error is not JsonObject e || e["code"] is not JsonValue c || c.GetValueKind() != JsonValueKind.String)
        {
            return false;
        }

        var message = e["message"] is JsonValue m && m.GetValueKind() == JsonValueKind.String ? m.GetValue<string>() : string.Empty;
        reply = new RequestReply(req, null, c.GetValue<string>(), message);
        return true;
    }

    /// <summary>A request id: a positive whole JSON number, or null.</summary>
    public static long? ReadId(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) && n > 0 ? n : null;
}

/// <summary>A <c>$reply</c> as read: the request it answers and its value, or its error's code and message.</summary>
internal readonly record struct RequestReply(long Req, JsonNode? Value, string? ErrorCode, string? ErrorMessage);
