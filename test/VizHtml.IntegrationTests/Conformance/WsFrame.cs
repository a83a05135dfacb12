using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace VizHtml.IntegrationTests.Conformance;

/// <summary>Opcodes of RFC 6455 section 5.2; 0x3-0x7 and 0xB-0xF are reserved.</summary>
internal static class Opcode
{
    public const byte Continuation = 0x0;
    public const byte Text = 0x1;
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    /// <summary>Control frames are the opcodes with the high bit set (RFC 6455 section 5.5).</summary>
    public static bool IsControl(byte opcode) => (opcode & 0x8) != 0;

    public static string Name(byte opcode) => opcode switch
    {
        Continuation => "continuation",
        Text => "text",
        Binary => "binary",
        Close => "close",
        Ping => "ping",
        Pong => "pong",
        _ => $"reserved 0x{opcode:X}",
    };
}

/// <summary>How the payload length is written (RFC 6455 section 5.2, "Payload length").</summary>
public enum LengthEncoding
{
    /// <summary>The shortest form, as the RFC requires of a sender.</summary>
    Minimal,

    /// <summary>The 7-bit form (0-125).</summary>
    SevenBit,

    /// <summary>126 followed by a 16-bit length.</summary>
    Extended16,

    /// <summary>127 followed by a 64-bit length.</summary>
    Extended64,
}

/// <summary>One frame as it appeared on the wire (payload already unmasked).</summary>
internal sealed record WsFrame(bool Fin, int Rsv, byte Opcode, bool Masked, byte[] Payload)
{
    /// <summary>The status code of a close frame, or null when its payload is empty.</summary>
    public int? CloseCode => Opcode == Conformance.Opcode.Close && Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : null;

    public override string ToString()
    {
        var text = Opcode is Conformance.Opcode.Text or Conformance.Opcode.Continuation
            ? Encoding.UTF8.GetString(Payload, 0, Math.Min(Payload.Length, 200))
            : Convert.ToHexString(Payload, 0, Math.Min(Payload.Length, 64));
        var code = CloseCode is { } c ? $" code={c}" : string.Empty;
        return $"{Conformance.Opcode.Name(Opcode)} fin={Fin} rsv={Rsv} len={Payload.Length}{code} [{text}]";
    }
}

/// <summary>Builds client frames byte by byte (RFC 6455 section 5.2), including deliberately broken ones.</summary>
internal static class FrameWriter
{
    /// <summary>One frame.</summary>
    /// <param name="opcode">Any 4-bit value, reserved ones included.</param>
    /// <param name="payload">The unmasked payload.</param>
    /// <param name="fin">The FIN bit.</param>
    /// <param name="rsv">RSV1..RSV3 as a 3-bit number (RSV1 = 4, RSV2 = 2, RSV3 = 1).</param>
    /// <param name="masked">Client frames must be masked (section 5.3); false produces a protocol violation.</param>
    /// <param name="length">The length form; anything but <see cref="LengthEncoding.Minimal"/> may be non-minimal.</param>
    /// <param name="declaredLength">A length to announce other than the payload's (to send a partial frame, or a bad 64-bit value).</param>
    public static byte[] Frame(byte opcode, ReadOnlySpan<byte> payload, bool fin = true, int rsv = 0, bool masked = true, LengthEncoding length = LengthEncoding.Minimal, ulong? declaredLength = null)
    {
        var declared = declaredLength ?? (ulong)payload.Length;
        if (length == LengthEncoding.Minimal)
        {
            length = declared < 126 ? LengthEncoding.SevenBit : declared <= ushort.MaxValue ? LengthEncoding.Extended16 : LengthEncoding.Extended64;
        }

        var lengthBytes = length switch
        {
            LengthEncoding.SevenBit => 0,
            LengthEncoding.Extended16 => 2,
            _ => 8,
        };
        var headerLength = 2 + lengthBytes + (masked ? 4 : 0);
        var frame = new byte[headerLength + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0x0F));
        var maskBit = masked ? 0x80 : 0;
        switch (length)
        {
            case LengthEncoding.SevenBit:
                if (declared > 125)
                {
                    throw new ArgumentOutOfRangeException(nameof(length), "the 7-bit form holds at most 125");
                }

                frame[1] = (byte)(maskBit | (int)declared);
                break;
            case LengthEncoding.Extended16:
                frame[1] = (byte)(maskBit | 126);
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), checked((ushort)declared));
                break;
            default:
                frame[1] = (byte)(maskBit | 127);
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), declared);
                break;
        }

        var body = frame.AsSpan(headerLength);
        payload.CopyTo(body);
        if (masked)
        {
            var key = frame.AsSpan(2 + lengthBytes, 4);
            RandomNumberGenerator.Fill(key);
            for (var i = 0; i < body.Length; i++)
            {
                body[i] ^= key[i & 3];
            }
        }

        return frame;
    }

    /// <summary>A message split into fragments of the given sizes (the last fragment takes the rest).</summary>
    public static byte[] Fragmented(byte opcode, ReadOnlySpan<byte> message, IReadOnlyList<int> sizes)
    {
        var frames = new List<byte[]>();
        var offset = 0;
        for (var i = 0; i < sizes.Count; i++)
        {
            var last = i == sizes.Count - 1;
            var size = last ? message.Length - offset : sizes[i];
            frames.Add(Frame(i == 0 ? opcode : Opcode.Continuation, message.Slice(offset, size), fin: last));
            offset += size;
        }

        return Concat(frames);
    }

    /// <summary>A message split into fragments of at most <paramref name="chunk"/> bytes.</summary>
    public static byte[] Chunked(byte opcode, ReadOnlySpan<byte> message, int chunk)
    {
        var count = Math.Max(1, (message.Length + chunk - 1) / chunk);
        return Fragmented(opcode, message, Enumerable.Repeat(chunk, count).ToArray());
    }

    /// <summary>The payload of a close frame: a 2-byte code and a UTF-8 reason.</summary>
    public static byte[] ClosePayload(int code, string reason = "") => ClosePayload(code, Encoding.UTF8.GetBytes(reason));

    public static byte[] ClosePayload(int code, ReadOnlySpan<byte> reason)
    {
        var payload = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        reason.CopyTo(payload.AsSpan(2));
        return payload;
    }

    public static byte[] Concat(params IEnumerable<byte[]> parts) => parts.SelectMany(p => p).ToArray();
}
