using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using VizHtml.Security;

namespace VizHtml.Tests.Security;

public sealed class KeyRedactorTests
{
    /// <summary>Every character the issue names, and non-ASCII of 2, 3 and 4 UTF-8 bytes.</summary>
    private const string EveryCharacter = "Ab3Q!'()*%+&=#?/ ~@Cd4R-üé€😀Ef5S";

    public static TheoryData<string, string> KeysAndSpellings()
    {
        var data = new TheoryData<string, string>();
        foreach (var key in new[] { EveryCharacter, "%41%2525\\x41-key", " leading space", "ünï-cöde-key", "%%%%%%%%" })
        {
            var utf8 = Encoding.UTF8.GetBytes(key);
            string[] spellings =
            [
                key,
                Uri.EscapeDataString(key),
                Escape(utf8, b => false, lowerHex: true),
                Regex.Replace(Uri.EscapeDataString(key), "%[0-9A-F]{2}", m => m.Value.ToLowerInvariant()),
                Escape(utf8, b => char.IsAsciiLetterOrDigit((char)b) || "-_.!~*'()".Contains((char)b, StringComparison.Ordinal)),
                Escape(utf8, b => char.IsAsciiLetterOrDigit((char)b) || "*-._".Contains((char)b, StringComparison.Ordinal), spaceAsPlus: true),
                Uri.EscapeDataString(Uri.EscapeDataString(key)),
                Uri.EscapeDataString(Uri.EscapeDataString(Uri.EscapeDataString(key))),
                string.Concat(utf8.Select(b => b is < 0x20 or >= 0x7F ? $"\\x{b:X2}" : ((char)b).ToString())),
                Encoding.Latin1.GetString(utf8),

                // Every other byte escaped, the rest shown as Latin-1: two writers' habits in one line.
                string.Concat(utf8.Select((b, i) => i % 2 == 0 ? $"%{b:X2}" : Encoding.Latin1.GetString([b]))),
            ];
            foreach (var spelling in spellings.Distinct(StringComparer.Ordinal))
            {
                data.Add(key, spelling);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(KeysAndSpellings))]
    public void EverySpellingOfTheKeyIsMasked(string key, string spelling)
    {
        var redactor = new KeyRedactor(key);

        Assert.Equal("before *** after", redactor.Redact($"before {spelling} after"));
        Assert.Equal("***", redactor.Redact(spelling));
    }

    [Theory]
    [InlineData("GET /p/?key=abc&x=1 HTTP/1.1", "GET /p/?key=***&x=1 HTTP/1.1")]
    [InlineData("/p/?x=1&KEY=abc", "/p/?x=1&KEY=***")]
    [InlineData("/p/?%6Bey=abc#top", "/p/?%6Bey=***#top")]
    [InlineData("/p/?%4B%45%59=a%20b", "/p/?%4B%45%59=***")]
    [InlineData("/p/?k%2565y=abc", "/p/?k%2565y=***")]
    [InlineData("/p/?key%3Dabc", "/p/?key%3D***")]
    [InlineData("/p/?next=%2Fq%3Fkey%3Dabc%2520d%26x%3D1&y=2", "/p/?next=%2Fq%3Fkey%3D***%26x%3D1&y=2")]
    [InlineData("/p/?r=%252Fq%253Fkey%253Dabc%2526x%253D1", "/p/?r=%252Fq%253Fkey%253D***%2526x%253D1")]
    [InlineData("Cookie: a=b; vizhtml_key=abc; c=d", "Cookie: a=b; vizhtml_key=***; c=d")]
    [InlineData("the query had key=abc def", "the query had key=*** def")]
    [InlineData("Invalid request line: 'GET /?key=ab\\xC3\\xBCc'd HTTP/1.1\\x0D\\x0A'", "Invalid request line: 'GET /?key=*** HTTP/1.1\\x0D\\x0A'")]
    [InlineData("{\"url\":\"/p/?key=abc\"}", "{\"url\":\"/p/?key=***\"}")]
    public void TheValueOfAnyKeyParameterIsMaskedWhateverItHolds(string text, string expected)
    {
        Assert.Equal(expected, new KeyRedactor("not-in-any-of-these").Redact(text));
    }

    [Theory]
    [InlineData("monkey=banana")]
    [InlineData("/p/?api_key=abc")]
    [InlineData("/p/?keys=abc")]
    [InlineData("x-key=1 my.key=2")]
    [InlineData("key: abc")]
    [InlineData("/p/?key=")]
    [InlineData("Request starting HTTP/1.1 GET http://127.0.0.1:5000/vizhtml/p/vizhtml.js - - -")]
    [InlineData("Keep-alive timeout 100% of %s used; hockey")]
    [InlineData("Ab3Q!'() is where the key starts")]
    public void TextWithoutTheKeyOrAKeyParameterComesBackAsTheSameInstance(string text)
    {
        Assert.Same(text, new KeyRedactor(EveryCharacter).Redact(text));
    }

    [Fact]
    public void AKeyCutShortByALogWriterIsMaskedFromEightBytesOn()
    {
        var redactor = new KeyRedactor("0123456789abcdef");

        // Kestrel shows at most 128 bytes of a bad request line and ends it with "...".
        Assert.Equal("line: 'GET /p/***...'", redactor.Redact("line: 'GET /p/01234567...'"));
        Assert.Equal("tail ***", redactor.Redact("tail 0123456789"));
        Assert.Equal("line: 'GET /p/0123456...'", redactor.Redact("line: 'GET /p/0123456...'"));
        Assert.Equal("0123456789 in the middle", redactor.Redact("0123456789 in the middle"));
    }

    [Fact]
    public void AKeyMadeOfEscapesIsFoundInTextThatKeepsAlmostMatchingWithoutBlowingUp()
    {
        var key = new string('%', 16);
        var redactor = new KeyRedactor(key);

        Assert.Equal("***", redactor.Redact(string.Concat(Enumerable.Repeat("%25", 16))));
        Assert.Equal("***", redactor.Redact(string.Concat(Enumerable.Repeat("%2525", 16))));

        // Fifteen of sixteen, over and over: every place is a near miss, each bounded.
        var nearMisses = string.Concat(Enumerable.Repeat(string.Concat(Enumerable.Repeat("%2525", 15)) + "x", 400));
        Assert.Same(nearMisses, redactor.Redact(nearMisses));
    }

    private static string Escape(byte[] utf8, Func<byte, bool> keep, bool spaceAsPlus = false, bool lowerHex = false)
    {
        var result = new StringBuilder();
        foreach (var b in utf8)
        {
            if (b < 0x80 && keep(b))
            {
                result.Append((char)b);
            }
            else if (b == ' ' && spaceAsPlus)
            {
                result.Append('+');
            }
            else
            {
                result.Append('%').Append(b.ToString(lowerHex ? "x2" : "X2", CultureInfo.InvariantCulture));
            }
        }

        return result.ToString();
    }
}
