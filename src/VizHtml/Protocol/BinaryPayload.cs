using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace VizHtml.Protocol;

/// <summary>
/// A serialized event with binary parts, in its binary wire form: <c>[uint32 big-endian H][H bytes: the JSON envelope
/// with "bin":[lengths]][part 0][part 1]…</c> (docs/protocol.md, "Binary messages"). It travels through the send path as
/// the <see cref="ReadOnlyMemory{T}"/> every payload is (queues, replay buffers, the broadcast log, latest values), so
/// none of them needs a second kind of item: the memory's owner is this object, which is how the write loop and a
/// connection tell a binary payload from a text one (<see cref="TryGet"/>), and the bytes counted everywhere are the
/// binary form's. A client that was not granted binary gets <see cref="Text"/> instead: the same event as JSON with each
/// part as a base64 string, derived from these bytes the first time such a client needs it and then shared.
/// </summary>
internal sealed class BinaryPayload : MemoryManager<byte>
{
    private readonly byte[] _wire;
    private readonly int _headerLength;
    private readonly int _binMemberAt;
    private readonly int[] _lengths;
    private byte[]? _text;

    private BinaryPayload(byte[] wire, int headerLength, int binMemberAt, int[] lengths)
    {
        _wire = wire;
        _headerLength = headerLength;
        _binMemberAt = binMemberAt;
        _lengths = lengths;
    }

    /// <summary>The whole binary message.</summary>
    public byte[] Wire => _wire;

    /// <summary>H: the length of the JSON envelope after the 4-byte length.</summary>
    public int HeaderLength => _headerLength;

    /// <summary>The JSON envelope (with <c>"bin"</c>).</summary>
    public ReadOnlyMemory<byte> Header => _wire.AsMemory(4, _headerLength);

    /// <summary>The parts, back to back, after the envelope.</summary>
    public ReadOnlyMemory<byte> Parts => _wire.AsMemory(4 + _headerLength);

    /// <summary>
    /// Builds the binary form from an envelope written up to just before its <c>"bin"</c> member (without the closing
    /// brace) and the parts its placeholders stand for.
    /// </summary>
    public static ReadOnlyMemory<byte> Create(ReadOnlySpan<byte> envelopeWithoutEnd, IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        // ,"bin":[len0,len1,…]}
        Span<byte> digits = stackalloc byte[16];
        var binLength = 8 + 1;
        long total = 0;
        foreach (var part in parts)
        {
            ((long)part.Length).TryFormat(digits, out var n, provider: System.Globalization.CultureInfo.InvariantCulture);
            binLength += n + 1;
            total += part.Length;
        }

        var headerLength = envelopeWithoutEnd.Length + binLength;
        var wire = GC.AllocateUninitializedArray<byte>(checked((int)(4 + headerLength + total)));
        BinaryPrimitives.WriteUInt32BigEndian(wire, (uint)headerLength);
        var at = 4;
        envelopeWithoutEnd.CopyTo(wire.AsSpan(at));
        at += envelopeWithoutEnd.Length;
        ",\"bin\":["u8.CopyTo(wire.AsSpan(at));
        at += 8;
        for (var i = 0; i < parts.Count; i++)
        {
            if (i > 0)
            {
                wire[at++] = (byte)',';
            }

            ((long)parts[i].Length).TryFormat(wire.AsSpan(at), out var n, provider: System.Globalization.CultureInfo.InvariantCulture);
            at += n;
        }

        wire[at++] = (byte)']';
        wire[at++] = (byte)'}';
        foreach (var part in parts)
        {
            part.Span.CopyTo(wire.AsSpan(at));
            at += part.Length;
        }

        return new BinaryPayload(wire, headerLength, 4 + envelopeWithoutEnd.Length, parts.Select(p => p.Length).ToArray()).Memory;
    }

    /// <summary>Whether <paramref name="payload"/> is a whole binary payload (and which).</summary>
    public static bool TryGet(ReadOnlyMemory<byte> payload, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BinaryPayload? binary)
    {
        if (MemoryMarshal.TryGetMemoryManager(payload, out binary, out var start, out var length) && start == 0 && length == binary._wire.Length)
        {
            return true;
        }

        binary = null;
        return false;
    }

    /// <summary>
    /// The same event as one JSON text envelope, each part a base64 string in place of its <c>{"$bin":i}</c>: what a
    /// client without binary gets, byte for byte what System.Text.Json writes for <c>byte[]</c>. Made once, when first asked.
    /// </summary>
    public ReadOnlyMemory<byte> Text
    {
        get
        {
            var text = Volatile.Read(ref _text);
            if (text is null)
            {
                // Two writers may race here; both make the same bytes and one array wins.
                text = ToText();
                text = Interlocked.CompareExchange(ref _text, text, null) ?? text;
            }

            return text;
        }
    }

    private byte[] ToText()
    {
        var header = _wire.AsSpan(4, _headerLength);
        var placeholders = FindPlaceholders(header, _lengths.Length);
        var keep = _binMemberAt - 4;
        var length = (long)keep + 1;
        foreach (var (start, end, part) in placeholders)
        {
            length += Base64.GetMaxEncodedToUtf8Length(_lengths[part]) + 2 - (end - start);
        }

        var text = new byte[checked((int)length)];
        var from = 0;
        var at = 0;
        foreach (var (start, end, part) in placeholders)
        {
            header[from..start].CopyTo(text.AsSpan(at));
            at += start - from;
            text[at++] = (byte)'"';
            Base64.EncodeToUtf8(PartSpan(part), text.AsSpan(at), out _, out var written);
            at += written;
            text[at++] = (byte)'"';
            from = end;
        }

        header[from..keep].CopyTo(text.AsSpan(at));
        at += keep - from;
        text[at] = (byte)'}';
        return text;
    }

    private ReadOnlySpan<byte> PartSpan(int index)
    {
        var at = 4 + _headerLength;
        for (var i = 0; i < index; i++)
        {
            at += _lengths[i];
        }

        return _wire.AsSpan(at, _lengths[index]);
    }

    /// <summary>
    /// The placeholders <c>{"$bin":i}</c> (exactly one member, i a part's index) in a JSON envelope, in order: their start,
    /// end and index. Found by reading the tokens, so spacing does not matter.
    /// </summary>
    internal static List<(int Start, int End, int Part)> FindPlaceholders(ReadOnlySpan<byte> json, int partCount)
    {
        var found = new List<(int, int, int)>();
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                continue;
            }

            var start = (int)reader.TokenStartIndex;
            var ahead = reader;
            if (ahead.Read() && ahead.TokenType == JsonTokenType.PropertyName && ahead.ValueTextEquals(BinaryJson.PlaceholderName.EncodedUtf8Bytes)
                && ahead.Read() && ahead.TokenType == JsonTokenType.Number && ahead.TryGetInt32(out var part) && part >= 0 && part < partCount
                && ahead.Read() && ahead.TokenType == JsonTokenType.EndObject)
            {
                found.Add((start, (int)ahead.BytesConsumed, part));
                reader = ahead;
            }
        }

        return found;
    }

    /// <inheritdoc/>
    public override Span<byte> GetSpan() => _wire;

    /// <inheritdoc/>
    public override MemoryHandle Pin(int elementIndex = 0) => _wire.AsMemory(elementIndex).Pin();

    /// <inheritdoc/>
    public override void Unpin()
    {
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
    }
}
