using System.Text;

namespace VizHtml.Http;

/// <summary>How much of a QR code may be damaged and still read: L about 7 % of its codewords, M about 15 %.</summary>
internal enum QrErrorCorrection
{
    /// <summary>Level L, the largest capacity (the console banner).</summary>
    Low,

    /// <summary>Level M (the page index, read from a screen across a room).</summary>
    Medium,
}

/// <summary>
/// A QR code (ISO/IEC 18004, model 2) of a text in byte mode (UTF-8, no ECI), versions 1 to 10: up to 271 bytes at
/// level L and 213 at M, ample for a URL. VizHtml's own so that the package depends on no imaging library (the usual
/// .NET QR packages pull System.Drawing.Common into every app). The smallest version that fits is used, and the mask
/// with the lowest score under the standard's four penalty rules. Encoders differ in how they count those rules (QRCoder
/// picks another mask for about one code in seven), and every choice reads alike.
/// </summary>
internal sealed class QrCode
{
    public const int MaxVersion = 10;

    // Per version 1..10 (index 0 unused): error correction codewords per block, and the number of blocks.
    private static readonly int[] EccPerBlockLow = [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18];
    private static readonly int[] EccPerBlockMedium = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26];
    private static readonly int[] BlocksLow = [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4];
    private static readonly int[] BlocksMedium = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5];

    private readonly bool[,] _dark;
    private readonly bool[,] _function;

    private QrCode(int version, QrErrorCorrection level)
    {
        Version = version;
        Level = level;
        Size = (version * 4) + 17;
        _dark = new bool[Size, Size];
        _function = new bool[Size, Size];
    }

    /// <summary>1 to <see cref="MaxVersion"/>.</summary>
    public int Version { get; }

    public QrErrorCorrection Level { get; }

    /// <summary>0 to 7.</summary>
    public int Mask { get; private set; }

    /// <summary>Modules on a side, without the quiet zone.</summary>
    public int Size { get; }

    /// <summary>Whether the module at column <paramref name="x"/>, row <paramref name="y"/> is dark; outside the symbol (the quiet zone) it is light.</summary>
    public bool IsDark(int x, int y) => x >= 0 && y >= 0 && x < Size && y < Size && _dark[y, x];

    /// <summary>The QR code of <paramref name="text"/>'s UTF-8 bytes.</summary>
    /// <exception cref="ArgumentException">The text is longer than version 10 holds at this level.</exception>
    public static QrCode Encode(string text, QrErrorCorrection level) => Encode(Encoding.UTF8.GetBytes(text), level, mask: null);

    /// <summary>The QR code of <paramref name="data"/>; <paramref name="mask"/> forces a mask (tests compare with other encoders through it).</summary>
    public static QrCode Encode(byte[] data, QrErrorCorrection level, int? mask)
    {
        var version = 1;
        while (DataCodewords(version, level) * 8 < 4 + CountBits(version) + (data.Length * 8))
        {
            if (++version > MaxVersion)
            {
                throw new ArgumentException($"{data.Length} bytes do not fit in a version {MaxVersion} QR code at level {level}.", nameof(data));
            }
        }

        var qr = new QrCode(version, level);
        qr.DrawFunctionPatterns();
        qr.DrawCodewords(qr.AddErrorCorrection(qr.EncodeData(data)));
        if (mask is { } forced)
        {
            qr.Mask = forced;
        }
        else
        {
            var best = int.MaxValue;
            for (var m = 0; m < 8; m++)
            {
                qr.ApplyMask(m);
                qr.DrawFormatBits(m);
                var penalty = qr.Penalty();
                if (penalty < best)
                {
                    best = penalty;
                    qr.Mask = m;
                }

                qr.ApplyMask(m); // XOR again undoes it
            }
        }

        qr.ApplyMask(qr.Mask);
        qr.DrawFormatBits(qr.Mask);
        return qr;
    }

    private static int CountBits(int version) => version <= 9 ? 8 : 16;

    private static int EccPerBlock(int version, QrErrorCorrection level) => (level == QrErrorCorrection.Low ? EccPerBlockLow : EccPerBlockMedium)[version];

    private static int Blocks(int version, QrErrorCorrection level) => (level == QrErrorCorrection.Low ? BlocksLow : BlocksMedium)[version];

    /// <summary>Modules left for codewords (data, error correction, remainder bits) once the function patterns are drawn.</summary>
    private static int RawDataModules(int version)
    {
        var result = (((16 * version) + 128) * version) + 64;
        if (version >= 2)
        {
            var alignments = (version / 7) + 2;
            result -= (((25 * alignments) - 10) * alignments) - 55;
            if (version >= 7)
            {
                result -= 36;
            }
        }

        return result;
    }

    private static int DataCodewords(int version, QrErrorCorrection level) =>
        (RawDataModules(version) / 8) - (EccPerBlock(version, level) * Blocks(version, level));

    private static int[] AlignmentPositions(int version)
    {
        if (version == 1)
        {
            return [];
        }

        var count = (version / 7) + 2;
        var step = (((version * 4) + (count * 2) + 1) / ((count * 2) - 2)) * 2;
        var result = new int[count];
        result[0] = 6;
        for (int i = count - 1, position = (version * 4) + 17 - 7; i >= 1; i--, position -= step)
        {
            result[i] = position;
        }

        return result;
    }

    private void Set(int x, int y, bool dark)
    {
        _dark[y, x] = dark;
        _function[y, x] = true;
    }

    private void DrawFunctionPatterns()
    {
        for (var i = 0; i < Size; i++)
        {
            Set(6, i, i % 2 == 0);
            Set(i, 6, i % 2 == 0);
        }

        DrawFinder(3, 3);
        DrawFinder(Size - 4, 3);
        DrawFinder(3, Size - 4);

        var positions = AlignmentPositions(Version);
        for (var i = 0; i < positions.Length; i++)
        {
            for (var j = 0; j < positions.Length; j++)
            {
                // The three corners that overlap a finder get none.
                if (!((i == 0 && j == 0) || (i == 0 && j == positions.Length - 1) || (i == positions.Length - 1 && j == 0)))
                {
                    DrawAlignment(positions[i], positions[j]);
                }
            }
        }

        DrawFormatBits(0); // reserves the format areas; drawn again with the chosen mask
        DrawVersionBits();
    }

    private void DrawFinder(int cx, int cy)
    {
        for (var dy = -4; dy <= 4; dy++)
        {
            for (var dx = -4; dx <= 4; dx++)
            {
                int x = cx + dx, y = cy + dy;
                if (x >= 0 && x < Size && y >= 0 && y < Size)
                {
                    var distance = Math.Max(Math.Abs(dx), Math.Abs(dy));
                    Set(x, y, distance != 2 && distance != 4); // 4 is the light separator
                }
            }
        }
    }

    private void DrawAlignment(int cx, int cy)
    {
        for (var dy = -2; dy <= 2; dy++)
        {
            for (var dx = -2; dx <= 2; dx++)
            {
                Set(cx + dx, cy + dy, Math.Max(Math.Abs(dx), Math.Abs(dy)) != 1);
            }
        }
    }

    private void DrawFormatBits(int mask)
    {
        // Level indicators: L = 01, M = 00. A BCH(15,5) code, then XORed so that the bits are never all light.
        var data = ((Level == QrErrorCorrection.Low ? 1 : 0) << 3) | mask;
        var remainder = data;
        for (var i = 0; i < 10; i++)
        {
            remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537);
        }

        var bits = ((data << 10) | remainder) ^ 0x5412;
        for (var i = 0; i <= 5; i++)
        {
            Set(8, i, Bit(bits, i));
        }

        Set(8, 7, Bit(bits, 6));
        Set(8, 8, Bit(bits, 7));
        Set(7, 8, Bit(bits, 8));
        for (var i = 9; i < 15; i++)
        {
            Set(14 - i, 8, Bit(bits, i));
        }

        for (var i = 0; i < 8; i++)
        {
            Set(Size - 1 - i, 8, Bit(bits, i));
        }

        for (var i = 8; i < 15; i++)
        {
            Set(8, Size - 15 + i, Bit(bits, i));
        }

        Set(8, Size - 8, true); // the dark module
    }

    private void DrawVersionBits()
    {
        if (Version < 7)
        {
            return;
        }

        var remainder = Version;
        for (var i = 0; i < 12; i++)
        {
            remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25);
        }

        var bits = (Version << 12) | remainder;
        for (var i = 0; i < 18; i++)
        {
            var dark = Bit(bits, i);
            int a = Size - 11 + (i % 3), b = i / 3;
            Set(a, b, dark);
            Set(b, a, dark);
        }
    }

    /// <summary>Mode (byte), count, the bytes, terminator, then pad codewords up to the version's data capacity.</summary>
    private byte[] EncodeData(byte[] data)
    {
        var capacity = DataCodewords(Version, Level);
        var bits = new BitWriter(capacity);
        bits.Append(0b0100, 4);
        bits.Append(data.Length, CountBits(Version));
        foreach (var b in data)
        {
            bits.Append(b, 8);
        }

        bits.Append(0, Math.Min(4, (capacity * 8) - bits.Length));
        bits.Append(0, (8 - (bits.Length % 8)) % 8);
        for (var pad = 0xEC; bits.Length < capacity * 8; pad ^= 0xEC ^ 0x11)
        {
            bits.Append(pad, 8);
        }

        return bits.Bytes;
    }

    /// <summary>Splits the data into blocks, adds each block's Reed-Solomon codewords, and interleaves them.</summary>
    private byte[] AddErrorCorrection(byte[] data)
    {
        var blocks = Blocks(Version, Level);
        var eccLength = EccPerBlock(Version, Level);
        var total = RawDataModules(Version) / 8;
        var shortBlocks = blocks - (total % blocks); // the first ones are one data codeword shorter
        var shortDataLength = (total / blocks) - eccLength;
        var divisor = ReedSolomon.Divisor(eccLength);

        var dataBlocks = new byte[blocks][];
        var eccBlocks = new byte[blocks][];
        for (int i = 0, offset = 0; i < blocks; i++)
        {
            var length = shortDataLength + (i < shortBlocks ? 0 : 1);
            dataBlocks[i] = new byte[length];
            Array.Copy(data, offset, dataBlocks[i], 0, length);
            offset += length;
            eccBlocks[i] = ReedSolomon.Remainder(dataBlocks[i], divisor);
        }

        var result = new byte[total];
        var n = 0;
        for (var i = 0; i <= shortDataLength; i++)
        {
            foreach (var block in dataBlocks)
            {
                if (i < block.Length)
                {
                    result[n++] = block[i];
                }
            }
        }

        for (var i = 0; i < eccLength; i++)
        {
            foreach (var block in eccBlocks)
            {
                result[n++] = block[i];
            }
        }

        return result;
    }

    /// <summary>Places the codewords in two-module columns, zigzagging up and down from the bottom right, around the function patterns.</summary>
    private void DrawCodewords(byte[] codewords)
    {
        var i = 0;
        for (var right = Size - 1; right >= 1; right -= 2)
        {
            if (right == 6)
            {
                right = 5; // the vertical timing pattern
            }

            for (var vertical = 0; vertical < Size; vertical++)
            {
                for (var j = 0; j < 2; j++)
                {
                    var x = right - j;
                    var upward = ((right + 1) & 2) == 0;
                    var y = upward ? Size - 1 - vertical : vertical;
                    if (!_function[y, x] && i < codewords.Length * 8)
                    {
                        _dark[y, x] = Bit(codewords[i >> 3], 7 - (i & 7));
                        i++;
                    }

                    // Modules past the last codeword are the remainder bits: light.
                }
            }
        }
    }

    private void ApplyMask(int mask)
    {
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var invert = mask switch
                {
                    0 => (x + y) % 2 == 0,
                    1 => y % 2 == 0,
                    2 => x % 3 == 0,
                    3 => (x + y) % 3 == 0,
                    4 => ((x / 3) + (y / 2)) % 2 == 0,
                    5 => ((x * y) % 2) + ((x * y) % 3) == 0,
                    6 => (((x * y) % 2) + ((x * y) % 3)) % 2 == 0,
                    _ => (((x + y) % 2) + ((x * y) % 3)) % 2 == 0,
                };
                if (invert && !_function[y, x])
                {
                    _dark[y, x] = !_dark[y, x];
                }
            }
        }
    }

    /// <summary>The standard's four penalty rules: runs, 2×2 blocks, finder-like patterns, and the balance of dark and light.</summary>
    private int Penalty()
    {
        const int N1 = 3, N2 = 3, N3 = 40, N4 = 10;
        var result = 0;
        var history = new int[7];

        for (var pass = 0; pass < 2; pass++) // rows, then columns
        {
            for (var a = 0; a < Size; a++)
            {
                var runColor = false;
                var run = 0;
                Array.Clear(history, 0, history.Length);
                for (var b = 0; b < Size; b++)
                {
                    var dark = pass == 0 ? _dark[a, b] : _dark[b, a];
                    if (dark == runColor)
                    {
                        run++;
                        if (run == 5)
                        {
                            result += N1;
                        }
                        else if (run > 5)
                        {
                            result++;
                        }
                    }
                    else
                    {
                        AddHistory(run, history);
                        if (!runColor)
                        {
                            result += CountFinderLike(history) * N3;
                        }

                        runColor = dark;
                        run = 1;
                    }
                }

                result += TerminateAndCount(runColor, run, history) * N3;
            }
        }

        for (var y = 0; y < Size - 1; y++)
        {
            for (var x = 0; x < Size - 1; x++)
            {
                var color = _dark[y, x];
                if (color == _dark[y, x + 1] && color == _dark[y + 1, x] && color == _dark[y + 1, x + 1])
                {
                    result += N2;
                }
            }
        }

        var darkCount = 0;
        foreach (var module in _dark)
        {
            darkCount += module ? 1 : 0;
        }

        var total = Size * Size;
        var k = ((Math.Abs((darkCount * 20) - (total * 10)) + total - 1) / total) - 1;
        result += k * N4;
        return result;

        void AddHistory(int length, int[] runs)
        {
            if (runs[0] == 0)
            {
                length += Size; // the light border before the symbol
            }

            Array.Copy(runs, 0, runs, 1, runs.Length - 1);
            runs[0] = length;
        }

        int CountFinderLike(int[] runs)
        {
            var n = runs[1];
            var core = n > 0 && runs[2] == n && runs[3] == n * 3 && runs[4] == n && runs[5] == n;
            return (core && runs[0] >= n * 4 && runs[6] >= n ? 1 : 0) + (core && runs[6] >= n * 4 && runs[0] >= n ? 1 : 0);
        }

        int TerminateAndCount(bool runColor, int run, int[] runs)
        {
            if (runColor)
            {
                AddHistory(run, runs);
                run = 0;
            }

            run += Size; // the light border after the symbol
            AddHistory(run, runs);
            return CountFinderLike(runs);
        }
    }

    private static bool Bit(int value, int index) => ((value >> index) & 1) != 0;

    private sealed class BitWriter(int capacityBytes)
    {
        public byte[] Bytes { get; } = new byte[capacityBytes];

        public int Length { get; private set; }

        public void Append(int value, int count)
        {
            for (var i = count - 1; i >= 0; i--, Length++)
            {
                if (Bit(value, i))
                {
                    Bytes[Length >> 3] |= (byte)(0x80 >> (Length & 7));
                }
            }
        }
    }

    /// <summary>Reed-Solomon over GF(2^8) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D) and generator roots α^0...</summary>
    private static class ReedSolomon
    {
        public static byte[] Divisor(int degree)
        {
            var result = new byte[degree];
            result[degree - 1] = 1; // the polynomial 1, highest coefficient first, leading 1 implied
            var root = 1;
            for (var i = 0; i < degree; i++)
            {
                // Multiply by (x - α^i).
                for (var j = 0; j < result.Length; j++)
                {
                    result[j] = Multiply(result[j], root);
                    if (j + 1 < result.Length)
                    {
                        result[j] ^= result[j + 1];
                    }
                }

                root = Multiply(root, 0x02);
            }

            return result;
        }

        public static byte[] Remainder(byte[] data, byte[] divisor)
        {
            var result = new byte[divisor.Length];
            foreach (var b in data)
            {
                var factor = b ^ result[0];
                Array.Copy(result, 1, result, 0, result.Length - 1);
                result[result.Length - 1] = 0;
                for (var i = 0; i < result.Length; i++)
                {
                    result[i] ^= Multiply(divisor[i], factor);
                }
            }

            return result;
        }

        private static byte Multiply(int x, int y)
        {
            var z = 0;
            for (var i = 7; i >= 0; i--)
            {
                z = (z << 1) ^ ((z >> 7) * 0x11D);
                z ^= ((y >> i) & 1) * x;
            }

            return (byte)z;
        }
    }
}
