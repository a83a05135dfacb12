using System.Buffers;
using System.Text.Json;

namespace VizHtml.Protocol;

/// <summary>
/// Writes envelopes as UTF-8 JSON. A broadcast calls this once and shares the bytes with every recipient.
/// </summary>
internal sealed class EnvelopeSerializer
{
    private readonly JsonSerializerOptions _options;
    private readonly BinaryJson? _binary;

    public EnvelopeSerializer(JsonSerializerOptions options, BinaryJson? binary = null)
    {
        _options = options;
        _binary = binary;
    }

    /// <summary>How data is written.</summary>
    public JsonSerializerOptions Options => _options;

    /// <summary>Serializes <paramref name="data"/> under <paramref name="eventName"/> into a new exact-size array.</summary>
    public byte[] Serialize(string eventName, object? data) => Serialize(eventName, data, seq: 0);

    /// <summary>As <see cref="Serialize(string, object?)"/>, with a <c>seq</c> member when <paramref name="seq"/> is positive (a client's numbered event).</summary>
    public byte[] Serialize(string eventName, object? data, long seq) =>
        // Without parts the result is always a text envelope in an array of its own.
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(Serialize(eventName, data, seq, parts: null), out var text) ? text.Array! : throw new InvalidOperationException();

    /// <summary>
    /// Serializes an event whose data may hold bytes (<c>byte[]</c>, <see cref="ReadOnlyMemory{T}"/> or <see cref="Memory{T}"/>
    /// of bytes, anywhere in it): without any, the same text envelope as <see cref="Serialize(string, object?)"/>; with some,
    /// a <see cref="BinaryPayload"/> (its memory), each byte value a part. Needs the <see cref="BinaryJson"/> given at construction.
    /// </summary>
    public ReadOnlyMemory<byte> SerializeWithParts(string eventName, object? data, long seq = 0)
    {
        if (_binary is null || data is null or string or VizData or System.Text.Json.Nodes.JsonNode)
        {
            return Serialize(eventName, data, seq);
        }

        var rental = _binary.Rent();
        try
        {
            return Serialize(eventName, data, seq, rental);
        }
        finally
        {
            _binary.Return(rental);
        }
    }

    private ReadOnlyMemory<byte> Serialize(string eventName, object? data, long seq, BinaryJson.Rental? parts)
    {
        // The writer and its buffer are reused per thread; only the exact-size result is allocated. That array is what every
        // recipient's queue and replay buffer share, for as long as any of them holds it, so it is not pooled.
        var scratch = t_scratch is { InUse: false } reusable ? reusable : t_scratch = new Scratch();
        scratch.InUse = true;
        if (!ReferenceEquals(scratch.Encoder, _options.Encoder))
        {
            scratch.Writer = new Utf8JsonWriter(scratch.Buffer, new JsonWriterOptions { Encoder = _options.Encoder, SkipValidation = true });
            scratch.Encoder = _options.Encoder;
        }

        var writer = scratch.Writer;
        scratch.Buffer.ResetWrittenCount();
        writer.Reset(scratch.Buffer);
        try
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
                JsonText.Write(writer, data, parts?.Options ?? _options);
            }

            if (seq > 0)
            {
                writer.WriteNumber("seq", seq);
            }

            if (parts is { Written.Count: > 0 })
            {
                // The binary form: the envelope so far, then "bin" and the parts (BinaryPayload writes both).
                writer.Flush();
                return BinaryPayload.Create(scratch.Buffer.WrittenSpan, parts.Written);
            }

            writer.WriteEndObject();
            writer.Flush();
            return scratch.Buffer.WrittenSpan.ToArray();
        }
        finally
        {
            // A very large message does not keep its buffer on the thread.
            // (A converter that sends from inside a serialization got a scratch of its own above.)
            scratch.InUse = false;
            if (scratch.Buffer.Capacity > MaxRetainedBytes && ReferenceEquals(t_scratch, scratch))
            {
                t_scratch = null;
            }
        }
    }

    private const int MaxRetainedBytes = 64 * 1024;

    [ThreadStatic]
    private static Scratch? t_scratch;

    private sealed class Scratch
    {
        public readonly ArrayBufferWriter<byte> Buffer = new(1024);
        public Utf8JsonWriter Writer = null!;
        public bool InUse;
        public System.Text.Encodings.Web.JavaScriptEncoder? Encoder = Sentinel;

        // Never equal to a real options encoder (null included), so the first use creates the writer.
        private static readonly System.Text.Encodings.Web.JavaScriptEncoder Sentinel = System.Text.Encodings.Web.JavaScriptEncoder.Create(System.Text.Unicode.UnicodeRanges.None);
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
