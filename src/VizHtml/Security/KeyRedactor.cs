using System.Buffers;
using System.Text;

namespace VizHtml.Security;

/// <summary>
/// Masks the access key in text: the key itself in any spelling, and the value of any <c>key</c> (or <c>vizhtml_key</c>)
/// parameter whatever it holds, so that a wrong or an old key goes too.
/// </summary>
/// <remarks>
/// A spelling is any mix, byte by byte of the key's UTF-8, of: the character itself; percent-escapes of one to three
/// levels (<c>%40</c>, <c>%2540</c>, <c>%252540</c>) in either case of hex; <c>+</c> for a space; Kestrel's <c>\x40</c>;
/// and bytes shown as Latin-1 characters. Thread-safe; text that holds neither comes back as the same instance, unallocated.
/// </remarks>
internal sealed class KeyRedactor
{
    public const string Mask = "***";

    /// <summary>Escape levels recognised: a URL inside a parameter of a URL inside a parameter.</summary>
    private const int MaxEscapeDepth = 3;

    /// <summary>A key cut short at the end of the text or before <c>...</c> (Kestrel's 128-byte detail) is masked from this many bytes on.</summary>
    private const int MinTruncatedBytes = 8;

    private static readonly string[] ParameterNames = ["key", "vizhtml_key"];
    private static readonly SearchValues<char> ParameterStarts = SearchValues.Create("kKvV%");

    private readonly byte[] _secret;
    private readonly SearchValues<char> _secretStarts;

    public KeyRedactor(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        Secret = secret;
        _secret = Encoding.UTF8.GetBytes(secret);

        // Where a spelling of the key can begin: its first character, its first byte seen as Latin-1, an escape, a '+'.
        var first = _secret[0];
        var starts = new HashSet<char> { '%', '\\', secret[0], (char)first };
        if (first == ' ')
        {
            starts.Add('+');
        }

        _secretStarts = SearchValues.Create([.. starts]);
    }

    /// <summary>The key this redactor masks.</summary>
    public string Secret { get; }

    /// <summary>The text with the key and every <c>key</c> parameter's value masked; the same instance when there was none.</summary>
    public string Redact(string text) => RedactParameters(RedactSecret(text));

    private string RedactSecret(string text)
    {
        StringBuilder? result = null;
        var copied = 0;
        var i = 0;
        while (i < text.Length)
        {
            var next = text.AsSpan(i).IndexOfAny(_secretStarts);
            if (next < 0)
            {
                break;
            }

            i += next;

            // A few hundred steps at most per place: text that keeps almost matching costs no more than that.
            var budget = (8 * _secret.Length) + 64;
            var end = MatchSecret(text, i, 0, ref budget);
            if (end < 0)
            {
                i++;
                continue;
            }

            result ??= new StringBuilder(text.Length);
            result.Append(text, copied, i - copied).Append(Mask);
            copied = i = end;
        }

        return result is null ? text : result.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>Where a spelling of the key's bytes from <paramref name="j"/> on, starting at <paramref name="p"/>, ends; -1 if none does.</summary>
    private int MatchSecret(string text, int p, int j, ref int budget)
    {
        // Each way the text at p can spell the byte (or bytes) at j: where it goes on in the text and in the key.
        Span<(int P, int J)> ways = stackalloc (int, int)[MaxEscapeDepth + 4];
        while (j < _secret.Length)
        {
            if (--budget < 0)
            {
                return -1;
            }

            var count = p < text.Length ? Ways(text, p, j, ways) : 0;
            if (count == 0)
            {
                return j >= MinTruncatedBytes && (p == text.Length || text.AsSpan(p).StartsWith("...", StringComparison.Ordinal)) ? p : -1;
            }

            // Only a '%' or '\' in the key, or a Latin-1 reading, gives a choice: the longest reading first (so "%25" is one
            // '%', not '%' and "25"), then the others; the last is gone on with here.
            if (count > 1)
            {
                ways[..count].Sort(static (a, b) => b.P.CompareTo(a.P));
            }

            for (var w = 0; w < count - 1; w++)
            {
                var end = MatchSecret(text, ways[w].P, ways[w].J, ref budget);
                if (end >= 0)
                {
                    return end;
                }
            }

            (p, j) = ways[count - 1];
        }

        return p;
    }

    private int Ways(string text, int p, int j, Span<(int P, int J)> ways)
    {
        var count = 0;
        var b = _secret[j];
        var c = text[p];
        if (c >= 0x80)
        {
            // The character's own UTF-8 bytes.
            var length = char.IsHighSurrogate(c) && p + 1 < text.Length && char.IsLowSurrogate(text[p + 1]) ? 2 : 1;
            Span<byte> utf8 = stackalloc byte[4];
            // A lone surrogate encodes to nothing a key can hold (UTF-8 has no surrogates).
            var whole = length == 2 || !char.IsSurrogate(c);
            var written = whole ? Encoding.UTF8.GetBytes(text.AsSpan(p, length), utf8) : 0;
            if (written > 0 && _secret.AsSpan(j).StartsWith(utf8[..written]))
            {
                ways[count++] = (p + length, j + written);
            }

            // One byte decoded as Latin-1 (a header read byte by byte).
            if (c <= 0xFF && c == b)
            {
                ways[count++] = (p + 1, j + 1);
            }

            return count;
        }

        if (c == b || (c == '+' && b == ' '))
        {
            ways[count++] = (p + 1, j + 1);
        }

        if (c == '%')
        {
            // %XX, %25XX, %2525XX: each level's value is a candidate while the levels above it are escaped percent signs.
            var q = p + 1;
            for (var depth = 0; depth < MaxEscapeDepth && TryHex(text, q, out var value); depth++)
            {
                if (value == b)
                {
                    ways[count++] = (q + 2, j + 1);
                }

                if (value != '%')
                {
                    break;
                }

                q += 2;
            }
        }
        else if (c == '\\' && p + 1 < text.Length && (text[p + 1] | 0x20) == 'x' && TryHex(text, p + 2, out var value) && value == b)
        {
            ways[count++] = (p + 4, j + 1);
        }

        return count;
    }

    private static string RedactParameters(string text)
    {
        if (!text.Contains("key", StringComparison.OrdinalIgnoreCase) && !text.Contains('%', StringComparison.Ordinal))
        {
            return text;
        }

        StringBuilder? result = null;
        var copied = 0;
        var i = 0;
        while (i < text.Length)
        {
            var next = text.AsSpan(i).IndexOfAny(ParameterStarts);
            if (next < 0)
            {
                break;
            }

            i += next;
            if (!StartsAName(text, i) || !MatchParameter(text, i, out var valueStart, out var level))
            {
                i++;
                continue;
            }

            var valueEnd = ValueEnd(text, valueStart, level);
            if (valueEnd > valueStart && !text.AsSpan(valueStart, valueEnd - valueStart).SequenceEqual(Mask))
            {
                result ??= new StringBuilder(text.Length);
                result.Append(text, copied, valueStart - copied).Append(Mask);
                copied = valueEnd;
            }

            i = Math.Max(valueEnd, i + 1);
        }

        return result is null ? text : result.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>Whether a name can begin here: not in the middle of a word such as <c>monkey</c> or <c>api_key</c>.</summary>
    private static bool StartsAName(string text, int i)
    {
        if (i == 0)
        {
            return true;
        }

        // An escaped separator (%3F, %26, %253F) or any other escape ends with a hex digit, which is a letter or digit.
        var k = i - 2;
        if (k >= 1 && char.IsAsciiHexDigit(text[k]) && char.IsAsciiHexDigit(text[k + 1]))
        {
            for (var depth = 0; depth < MaxEscapeDepth && k >= 1; depth++)
            {
                if (text[k - 1] == '%')
                {
                    return true;
                }

                if (k < 3 || text[k - 2] != '2' || text[k - 1] != '5')
                {
                    break;
                }

                k -= 2;
            }
        }

        var before = text[i - 1];
        return !(char.IsAsciiLetterOrDigit(before) || before is '_' or '-' or '.' or '~');
    }

    /// <summary>
    /// Whether a parameter name, any letter in either case or escaped, and its <c>=</c> start at <paramref name="i"/>; the
    /// escape level of the <c>=</c> (0 for a plain one) is the level the parameter lives at.
    /// </summary>
    private static bool MatchParameter(string text, int i, out int valueStart, out int level)
    {
        foreach (var name in ParameterNames)
        {
            var p = i;
            var matched = true;
            foreach (var letter in name)
            {
                if (p < text.Length && SameLetter(text[p], letter))
                {
                    p++;
                }
                else if (TryUnescape(text, p, out var value, out var length, out _) && SameLetter(value, letter))
                {
                    p += length;
                }
                else
                {
                    matched = false;
                    break;
                }
            }

            if (!matched || p >= text.Length)
            {
                continue;
            }

            if (text[p] == '=')
            {
                (valueStart, level) = (p + 1, 0);
                return true;
            }

            if (TryUnescape(text, p, out var equals, out var escapedLength, out var depth) && equals == '=')
            {
                (valueStart, level) = (p + escapedLength, depth);
                return true;
            }
        }

        (valueStart, level) = (0, 0);
        return false;
    }

    /// <summary>
    /// Where a parameter's value ends: at white space, <c>;</c>, quotes or angle brackets, or at an <c>&amp;</c> or <c>#</c> of its
    /// own level or an outer one (a plain one always; <c>%26</c> only inside an escaped URL). Anything doubtful is masked.
    /// </summary>
    private static int ValueEnd(string text, int start, int level)
    {
        var p = start;
        while (p < text.Length)
        {
            var c = text[p];
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '&' or '#' or ';' or '"' or '<' or '>')
            {
                return p;
            }

            if (c == '%' && level > 0 && TryUnescape(text, p, out var value, out _, out var depth) && depth <= level && value is '&' or '#')
            {
                return p;
            }

            p++;
        }

        return p;
    }

    /// <summary>Decodes an escape at <paramref name="p"/> as deep as it goes (<c>%2526</c> is <c>&amp;</c> at depth 2).</summary>
    private static bool TryUnescape(string text, int p, out int value, out int length, out int depth)
    {
        (value, length, depth) = (0, 0, 0);
        if (p >= text.Length || text[p] != '%')
        {
            return false;
        }

        var q = p + 1;
        while (depth < MaxEscapeDepth && TryHex(text, q, out var next))
        {
            (value, depth) = (next, depth + 1);
            q += 2;
            if (next != '%')
            {
                break;
            }
        }

        length = q - p;
        return depth > 0;
    }

    private static bool SameLetter(int c, char letter) => c == letter || (char.IsAsciiLetterLower(letter) && (c | 0x20) == letter);

    private static bool TryHex(string text, int p, out int value)
    {
        value = 0;
        if (p + 1 >= text.Length || !char.IsAsciiHexDigit(text[p]) || !char.IsAsciiHexDigit(text[p + 1]))
        {
            return false;
        }

        value = (HexValue(text[p]) << 4) | HexValue(text[p + 1]);
        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
