using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using QRCoder;
using VizHtml.Http;
using ZXing.Common;
using QrDecoder = ZXing.QrCode.Internal.Decoder;

namespace VizHtml.Tests.Http;

/// <summary>
/// VizHtml's own QR encoder against two references: ZXing's decoder reads every code back (without correcting a single
/// error), and QRCoder (test-only, the package VizHtml used before) draws the same matrix module for module when given
/// the same mask (it scores the mask penalties a little differently, so it picks another mask for some texts).
/// </summary>
public sealed class QrCodeTests
{
    /// <summary>URL lengths that land on every version from 1 to 10 at both levels, up to version 10's capacity.</summary>
    public static TheoryData<int, char> Lengths()
    {
        var data = new TheoryData<int, char>();
        int[] low = [1, 17, 18, 32, 33, 53, 54, 78, 79, 106, 107, 134, 135, 154, 155, 192, 193, 230, 231, 271];
        int[] medium = [1, 14, 15, 26, 27, 42, 43, 62, 63, 84, 85, 106, 107, 122, 123, 152, 153, 180, 181, 213];
        foreach (var n in low)
        {
            data.Add(n, 'L');
        }

        foreach (var n in medium)
        {
            data.Add(n, 'M');
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void EveryCodeDecodesToItsTextWithoutAnErrorToCorrect(int length, char level)
    {
        var text = Url(length);
        var qr = QrCode.Encode(text, Level(level));

        var result = new QrDecoder().decode(ToBitMatrix(qr), null);

        Assert.NotNull(result);
        Assert.Equal(text, result.Text);
        Assert.Equal(0, result.ErrorsCorrected);
        Assert.Equal(level.ToString(), result.ECLevel);
    }

    /// <summary>
    /// The same version, codewords, placement, format and version bits. QRCoder is given the bytes: from a
    /// string it would mix segment modes (digits and <c>:/.</c> in alphanumeric mode), a different but equally valid code.
    /// </summary>
    [Theory]
    [MemberData(nameof(Lengths))]
    public void TheMatrixIsQRCodersModuleForModule(int length, char level)
    {
        var text = Url(length);
        using var generator = new QRCodeGenerator();
        using var reference = generator.CreateQrCode(Encoding.UTF8.GetBytes(text), level == 'L' ? QRCodeGenerator.ECCLevel.L : QRCodeGenerator.ECCLevel.M);

        var ours = QrCode.Encode(text, Level(level));
        var sameMask = QrCode.Encode(Encoding.UTF8.GetBytes(text), Level(level), MaskOf(reference));

        Assert.Equal(reference.Version, ours.Version);
        Assert.Equal(Modules(reference), Modules(sameMask));
    }

    [Fact]
    public void VersionTenIsTheLimitAndALongerTextIsRefusedWithItsLength()
    {
        Assert.Equal(10, QrCode.Encode(Url(271), QrErrorCorrection.Low).Version);
        Assert.Equal(10, QrCode.Encode(Url(213), QrErrorCorrection.Medium).Version);
        var tooLong = Assert.Throws<ArgumentException>(() => QrCode.Encode(Url(272), QrErrorCorrection.Low));
        Assert.Contains("272 bytes", tooLong.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => QrCode.Encode(Url(214), QrErrorCorrection.Medium));
    }

    [Fact]
    public void NonAsciiTextIsEncodedAsUtf8Bytes()
    {
        var text = "http://labor-pc.local:8080/vizhtml/größe/";
        var result = new QrDecoder().decode(ToBitMatrix(QrCode.Encode(text, QrErrorCorrection.Medium)), null);
        Assert.Equal(Encoding.UTF8.GetBytes(text), ByteSegments(result));
    }

    /// <summary>The console banner's text has the shape QRCoder's small ASCII rendering gave it before, character for character.</summary>
    [Theory]
    [InlineData(40)]
    [InlineData(120)]
    public void TheTextRenderingIsQRCodersSmallAsciiGraphic(int length)
    {
        var text = Url(length);
        using var generator = new QRCodeGenerator();
        using var reference = generator.CreateQrCode(Encoding.UTF8.GetBytes(text), QRCodeGenerator.ECCLevel.L);
        using var ascii = new AsciiQRCode(reference);

        Assert.Equal(ascii.GetGraphicSmall(), VizQrCode.ToText(text));
    }

    /// <summary>The PNG holds the matrix with a four-module quiet zone, eight pixels a module, black on white.</summary>
    [Fact]
    public void ThePngShowsEveryModuleWithAQuietZone()
    {
        var qr = QrCode.Encode(Url(60), QrErrorCorrection.Medium);
        var png = QrImage.Png(qr, pixelsPerModule: 8);

        var (side, pixels) = ReadGrayscalePng(png);

        Assert.Equal((qr.Size + 8) * 8, side);
        for (var py = 0; py < side; py++)
        {
            for (var px = 0; px < side; px++)
            {
                var dark = qr.IsDark((px / 8) - 4, (py / 8) - 4);
                Assert.True(dark == !pixels[py, px], $"pixel ({px}, {py})");
            }
        }
    }

    private static QrErrorCorrection Level(char level) => level == 'L' ? QrErrorCorrection.Low : QrErrorCorrection.Medium;

    private static string Url(int length)
    {
        const string Prefix = "http://192.168.1.31:8080/vizhtml/panel/?key=";
        if (length <= Prefix.Length)
        {
            return Prefix[..length];
        }

        var text = new StringBuilder(Prefix);
        for (var i = 0; text.Length < length; i++)
        {
            text.Append("abcdefghijklmnopqrstuvwxyz0123456789-_"[(i * 7) % 38]);
        }

        return text.ToString();
    }

    private static BitMatrix ToBitMatrix(QrCode qr)
    {
        var matrix = new BitMatrix(qr.Size);
        for (var y = 0; y < qr.Size; y++)
        {
            for (var x = 0; x < qr.Size; x++)
            {
                if (qr.IsDark(x, y))
                {
                    matrix[x, y] = true;
                }
            }
        }

        return matrix;
    }

    private static string Modules(QrCode qr)
    {
        var rows = new StringBuilder();
        for (var y = 0; y < qr.Size; y++)
        {
            for (var x = 0; x < qr.Size; x++)
            {
                rows.Append(qr.IsDark(x, y) ? '#' : '.');
            }

            rows.Append('\n');
        }

        return rows.ToString();
    }

    /// <summary>QRCoder's matrix without its four-module quiet zone; ModuleMatrix is indexed [row][column].</summary>
    private static string Modules(QRCodeData reference)
    {
        var size = reference.ModuleMatrix.Count - 8;
        var rows = new StringBuilder();
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                rows.Append(reference.ModuleMatrix[y + 4][x + 4] ? '#' : '.');
            }

            rows.Append('\n');
        }

        return rows.ToString();
    }

    /// <summary>The mask pattern in QRCoder's format bits (the copy around the top-left finder: row 8, columns 2 to 4).</summary>
    private static int MaskOf(QRCodeData reference)
    {
        var format = 0;
        for (var x = 0; x <= 5; x++)
        {
            format |= (reference.ModuleMatrix[8 + 4][x + 4] ? 1 : 0) << (14 - x);
        }

        format ^= 0x5412;
        return (format >> 10) & 7;
    }

    private static byte[] ByteSegments(ZXing.Common.DecoderResult result) => [.. result.ByteSegments.SelectMany(s => s)];

    /// <summary>PNG's CRC-32 (ISO-HDLC), bit by bit: a second implementation beside QrImage's table.</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = uint.MaxValue;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
            }
        }

        return ~crc;
    }

    /// <summary>A 1-bit grayscale, non-interlaced PNG with filter 0 on every row, as QrImage writes it: true is white.</summary>
    private static (int Side, bool[,] Pixels) ReadGrayscalePng(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        int width = 0, height = 0;
        using var idat = new MemoryStream();
        var offset = 8;
        var types = new List<string>();
        while (offset < png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            var type = Encoding.ASCII.GetString(png, offset + 4, 4);
            types.Add(type);
            var data = png.AsSpan(offset + 8, length);
            Assert.Equal(Crc32(png.AsSpan(offset + 4, length + 4)), BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset + 8 + length)));
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal(new byte[] { 1, 0, 0, 0, 0 }, data[8..].ToArray());
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }

            offset += 12 + length;
        }

        Assert.Equal(["IHDR", "IDAT", "IEND"], types);
        Assert.Equal(width, height);
        idat.Position = 0;
        using var inflate = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        inflate.CopyTo(raw);
        var stride = (width + 7) / 8;
        var bytes = raw.ToArray();
        Assert.Equal((stride + 1) * height, bytes.Length);
        var pixels = new bool[height, width];
        for (var y = 0; y < height; y++)
        {
            Assert.Equal(0, bytes[y * (stride + 1)]);
            for (var x = 0; x < width; x++)
            {
                pixels[y, x] = (bytes[(y * (stride + 1)) + 1 + (x >> 3)] & (0x80 >> (x & 7))) != 0;
            }
        }

        return (width, pixels);
    }
}
