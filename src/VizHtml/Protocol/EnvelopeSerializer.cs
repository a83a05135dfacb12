using System.Buffers;
using System.Text.Json;

namespace VizHtml.Protocol;

/// <summary>
/// Writes envelopes as UTF-8 JSON. A broadcast calls this once and shares the bytes with every recipient.
/// </summary>
internal sealed class EnvelopeSerializer
{
    private readonly JsonSerializerOptions _options;

    public EnvelopeSerializer(JsonSerializerOptions options) => _options = options;

    /// <summary>Serializes <paramref name="data"/> under <paramref name="eventName"/> into a new exact-size array.</summary>
    public byte[] Serialize(string eventName, object? data) => Serialize(eventName, data, seq: 0);

    /// <summary>As <see cref="Serialize(string, object?)"/>, with a <c>seq</c> member when <paramref name="seq"/> is positive (a client's numbered event).</summary>
    public byte[] Serialize(string eventName, object? data, long seq)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = _options.Encoder, SkipValidation = true }))
        {
            writer.WriteStartObject();
            writer.WriteString(Envelope.EventProperty, eventName);
            writer.WritePropertyName(Envelope.DataProperty);
            if (data is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                JsonSerializer.Serialize(writer, data, data.GetType(), _options);
            }

            if (seq > 0)
            {
                writer.WriteNumber("seq", seq);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Builds the <c>$error</c> envelope the server sends back for rejected input.</summary>
    public static byte[] SerializeError(string code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(Envelope.EventProperty, Envelope.ErrorEvent);
            writer.WriteStartObject(Envelope.DataProperty);
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
