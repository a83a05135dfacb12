using System.IO.Compression;
using System.Text;

namespace VizHtml.Http;

/// <summary>A <see cref="QrCode"/> drawn as a PNG (the page index) or as text for a console (the Unity banner).</summary>
internal static class QrImage
{
    /// <summary>The light margin the standard asks for around the symbol, in modules.</summary>
    public const int QuietZone = 4;

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>
    /// A black-on-white 1-bit grayscale PNG, <paramref name="pixelsPerModule"/> pixels a module, with the quiet zone.
    /// </summary>
    public static byte[] Png(QrCode qr, int pixelsPerModule)
    {
        var side = (qr.Size + (2 * QuietZone)) * pixelsPerModule;
        var stride = (side + 7) / 8;
        var raw = new byte[(stride + 1) * side];
        for (var py = 0; py < side; py++)
        {
            var row = py * (stride + 1); // raw[row] is the filter type: 0, none
            var y = (py / pixelsPerModule) - QuietZone;
            for (var px = 0; px < side; px++)
            {
                if (!qr.IsDark((px / pixelsPerModule) - QuietZone, y))
                {
                    raw[row + 1 + (px >> 3)] |= (byte)(0x80 >> (px & 7)); // 1 is white at bit depth 1
                }
            }
        }

        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], 0, 8);
        var header = new byte[13];
        WriteBigEndian(header, 0, (uint)side);
        WriteBigEndian(header, 4, (uint)side);
        header[8] = 1; // bit depth
        header[9] = 0; // grayscale; compression, filter and interlace bytes stay 0
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", Zlib(raw));
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>
    /// Two rows of modules a line in block characters (▀ ▄ █ and space), dark modules as spaces and light ones as blocks,
    /// with the quiet zone: read from a console with light text on a dark background, in a monospaced font. The shape is
    /// QRCoder's small ASCII graphic, which the Unity banner printed before.
    /// </summary>
    public static string Text(QrCode qr)
    {
        var text = new StringBuilder();
        for (var y = -QuietZone; y < qr.Size + QuietZone; y += 2)
        {
            if (y > -QuietZone)
            {
                text.Append('\n'); // between lines, none after the last
            }

            for (var x = -QuietZone; x < qr.Size + QuietZone; x++)
            {
                // An odd row count leaves the last line's lower half outside the code: drawn dark (blank), as QRCoder did.
                bool top = !qr.IsDark(x, y), bottom = y + 1 < qr.Size + QuietZone && !qr.IsDark(x, y + 1);
                text.Append(top ? (bottom ? '\u2588' : '\u2580') : (bottom ? '\u2584' : ' '));
            }
        }

        return text.ToString();
    }

    private static byte[] Zlib(byte[] data)
    {
        using var output = new MemoryStream();
        output.WriteByte(0x78); // deflate, 32 KiB window
        output.WriteByte(0x9C); // default compression; (0x78 << 8 | 0x9C) is a multiple of 31
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(data, 0, data.Length);
        }

        uint a = 1, b = 0;
        foreach (var d in data)
        {
            a = (a + d) % 65521;
            b = (b + a) % 65521;
        }

        var adler = new byte[4];
        WriteBigEndian(adler, 0, (b << 16) | a);
        output.Write(adler, 0, 4);
        return output.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        WriteBigEndian(chunk, 0, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, 0, 4, chunk, 4);
        Array.Copy(data, 0, chunk, 8, data.Length);
        var crc = 0xFFFFFFFFu;
        for (var i = 4; i < 8 + data.Length; i++)
        {
            crc = CrcTable[(crc ^ chunk[i]) & 0xFF] ^ (crc >> 8);
        }

        WriteBigEndian(chunk, 8 + data.Length, crc ^ 0xFFFFFFFFu);
        png.Write(chunk, 0, chunk.Length);
    }

    private static void WriteBigEndian(byte[] buffer, int offset, uint value)
    {
        buffer[offset] = (byte)(value >> 24);
        buffer[offset + 1] = (byte)(value >> 16);
        buffer[offset + 2] = (byte)(value >> 8);
        buffer[offset + 3] = (byte)value;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
