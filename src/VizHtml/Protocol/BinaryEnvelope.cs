using System.Buffers.Binary;
using System.Text.Json;

namespace VizHtml.Protocol;

/// <summary>
/// Decodes an inbound binary message, <c>[uint32 big-endian H][H bytes: JSON envelope with "bin":[lengths]][parts]</c>
/// (docs/protocol.md, "Binary messages"), from a client granted <c>binary</c>. The envelope is checked as a text one is
/// (<see cref="EnvelopeReader"/>); the lengths must add up to the message exactly. Each part is copied out into an array of
/// its own: the message's buffers go back to the pool after it, and a handler may keep its bytes.
/// </summary>
internal static class BinaryEnvelope
{
    public static InboundEnvelope Read(EnvelopeReader reader, ReadOnlyMemory<byte> message)
    {
        var span = message.Span;
        if (span.Length < 4)
        {
            return Error("binary message shorter than its 4-byte header length");
        }

        var headerLength = BinaryPrimitives.ReadUInt32BigEndian(span);
        if (headerLength > (uint)(span.Length - 4))
        {
            return Error($"binary message header length {headerLength} is longer than the {span.Length - 4} bytes after it");
        }

        var header = message.Slice(4, (int)headerLength);
        var envelope = reader.Read(header);
        if (!envelope.IsValid)
        {
            return envelope;
        }

        if (envelope.IsControl)
        {
            return Error($"{envelope.EventName} must be a text message");
        }

        if (ReadLengths(header.Span) is not { } lengths)
        {
            return Error("binary message envelope has no \"bin\" array of part lengths (non-negative integers)");
        }

        long total = 0;
        foreach (var length in lengths)
        {
            total += length;
        }

        var rest = span.Length - 4 - (int)headerLength;
        if (total != rest)
        {
            return Error($"binary message parts add up to {total} bytes, but {rest} follow the envelope");
        }

        var parts = new ReadOnlyMemory<byte>[lengths.Count];
        var at = 4 + (int)headerLength;
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = span.Slice(at, lengths[i]).ToArray();
            at += lengths[i];
        }

        return envelope with { Parts = parts };
    }

    /// <summary>The top-level <c>"bin"</c> member's lengths, or null when it is missing or not an array of non-negative integers.</summary>
    private static List<int>? ReadLengths(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        // Already validated by the envelope reader: the walk cannot fail, only miss.
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("bin"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                return null;
            }

            var lengths = new List<int>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var length) || length < 0)
                {
                    return null;
                }

                lengths.Add(length);
            }

            return lengths;
        }

        return null;
    }

    private static InboundEnvelope Error(string message) => new(null, null, ProtocolErrors.InvalidEnvelope, message);
}

/// <summary>The binary parts of an inbound message (BinaryEnvelope.cs: kept apart from the text envelope's members).</summary>
internal readonly partial record struct InboundEnvelope
{
    /// <summary>The parts of a binary message, in order; null for a text message.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>>? Parts { get; init; }
}
