using System.Text.Json;
using System.Text.Json.Nodes;

namespace VizHtml.Protocol;

/// <summary>
/// JSON written without the serializer's reflection: VizHtml's own messages (the welcome, a client's hello and acks) and
/// any <see cref="VizData"/> or <see cref="JsonNode"/> a program sends go through the writer directly, so they work where
/// reflection is switched off or stripped (IL2CPP, trimmed apps).
/// </summary>
internal static class JsonText
{
    /// <summary>A JSON tree as UTF-8 bytes.</summary>
    public static byte[] ToUtf8Bytes(JsonNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            node.WriteTo(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>Writes <paramref name="value"/>: a <see cref="VizData"/> or <see cref="JsonNode"/> directly, anything else through the serializer.</summary>
    public static void Write(Utf8JsonWriter writer, object value, JsonSerializerOptions options)
    {
        switch (value)
        {
            case VizData data:
                data.WriteTo(writer, options);
                break;
            case JsonNode node:
                node.WriteTo(writer, options);
                break;
            case string text when options.Converters.Count == 0:
                // What the serializer's own string converter writes, without looking up its type info.
                writer.WriteStringValue(text);
                break;
            default:
                JsonSerializer.Serialize(writer, value, value.GetType(), options);
                break;
        }
    }
}
