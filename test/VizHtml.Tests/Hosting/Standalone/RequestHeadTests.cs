using System.Text;
using VizHtml.Hosting.Standalone;

namespace VizHtml.Tests.Hosting.Standalone;

/// <summary>The standalone host's request parser on valid and hostile heads (RFC 9112), one head per case.</summary>
public sealed class RequestHeadTests
{
    /// <summary>Parses a head given as lines (CRLF added between them); the empty line that ends a head is not part of it.</summary>
    private static RequestHead? Parse(out HttpRefusal refusal, params string[] lines) =>
        RequestHead.Parse(Encoding.Latin1.GetBytes(string.Join("\r\n", lines)), out refusal);

    private static RequestHead Accepted(params string[] lines)
    {
        var head = Parse(out var refusal, lines);
        Assert.True(head is not null, $"Refused with {refusal.StatusCode}: {refusal.Reason}");
        return head;
    }

    private static int Refused(params string[] lines)
    {
        var head = Parse(out var refusal, lines);
        Assert.Null(head);
        Assert.False(string.IsNullOrEmpty(refusal.Reason));
        return refusal.StatusCode;
    }

    /// <summary>Header lines written as one string, separated by <c>|</c> (an empty string is no header).</summary>
    private static string[] Lines(string headers) => headers.Length == 0 ? [] : headers.Split('|');

    private static RequestHead Get(string target, params string[] headers) => Accepted(["GET " + target + " HTTP/1.1", "Host: h", .. headers]);

    private static int RefusedGet(string target, params string[] headers) => Refused(["GET " + target + " HTTP/1.1", "Host: h", .. headers]);

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    [InlineData("PATCH")]
    public void EveryTokenMethodIsTakenAsSent(string method)
    {
        var head = Accepted($"{method} /p?x=1 HTTP/1.1", "Host: example.test:8080");
        Assert.Equal(method, head.Method);
        Assert.Equal("/p", head.Path);
        Assert.Equal("?x=1", head.QueryString);
        Assert.Equal("/p?x=1", head.RawTarget);
        Assert.True(head.IsHttp11);
        Assert.True(head.KeepAlive);
        Assert.Equal("example.test:8080", head.Header("host"));
        Assert.False(head.HasContentLength);
        Assert.Equal(0, head.ContentLength);
    }

    [Theory]
    [InlineData("G(T /p HTTP/1.1")]
    [InlineData("GE\"T /p HTTP/1.1")]
    [InlineData(" GET /p HTTP/1.1")]
    [InlineData("GET  /p HTTP/1.1")]
    [InlineData("GET /p  HTTP/1.1")]
    [InlineData("GET /p")]
    [InlineData("GET")]
    [InlineData("")]
    [InlineData("GET /a b HTTP/1.1")]
    [InlineData("GET /p HTTP/1.1 ")]
    [InlineData("GET /p http/1.1")]
    [InlineData("GET /p HTTP/1.1\t")]
    [InlineData("GET /p HTTP/1.1.1")]
    [InlineData("GET /p HTTP/3")]
    [InlineData("GET /p HTTP/11")]
    [InlineData("GET /p HTTP/")]
    public void AMalformedRequestLineIs400(string line) => Assert.Equal(400, Refused(line, "Host: h"));

    [Theory]
    [InlineData("HTTP/2.0")]
    [InlineData("HTTP/0.9")]
    [InlineData("HTTP/1.2")]
    [InlineData("HTTP/9.9")]
    public void AnotherHttpVersionIs505(string version) => Assert.Equal(505, Refused("GET / " + version, "Host: h"));

    [Fact]
    public void ARequestLineOver8KiBIs414AndOneAtTheLimitIsTaken()
    {
        var prefix = "GET /";
        var suffix = " HTTP/1.1";
        var fits = prefix + new string('a', RequestHead.MaxRequestLineBytes - prefix.Length - suffix.Length) + suffix;
        Assert.Equal(RequestHead.MaxRequestLineBytes, fits.Length);
        Accepted(fits, "Host: h");

        var tooLong = prefix + new string('a', RequestHead.MaxRequestLineBytes - prefix.Length - suffix.Length + 1) + suffix;
        Assert.Equal(414, Refused(tooLong, "Host: h"));
    }

    [Fact]
    public void AbsoluteFormTakesItsAuthorityAsTheHost()
    {
        var head = Accepted("GET http://example.test:81/a/b?q=1 HTTP/1.1", "Host: other");
        Assert.Equal("/a/b", head.Path);
        Assert.Equal("?q=1", head.QueryString);
        Assert.Equal("example.test:81", head.Header("Host"));
    }

    [Theory]
    [InlineData("http://example.test", "/", "")]
    [InlineData("http://example.test?q=1", "/", "?q=1")]
    [InlineData("http://example.test?q=/x", "/", "?q=/x")]
    [InlineData("HTTPS://example.test/p", "/p", "")]
    public void AbsoluteFormWithoutAPathIsTheRoot(string target, string path, string query)
    {
        var head = Get(target);
        Assert.Equal(path, head.Path);
        Assert.Equal(query, head.QueryString);
    }

    [Theory]
    [InlineData("ftp://example.test/p")]
    [InlineData("*")]
    [InlineData("example.test:80")]
    [InlineData("p")]
    [InlineData("http:x")]
    [InlineData("http:")]
    [InlineData("http:/x")]
    [InlineData("http://")]
    public void OtherTargetFormsAre400(string target) => Assert.Equal(400, RefusedGet(target));

    [Fact]
    public void ConnectIsRefusedEvenInAuthorityForm() => Assert.Equal(400, Refused("CONNECT example.test:443 HTTP/1.1", "Host: example.test:443"));

    [Theory]
    [InlineData("Host: h", true)]
    [InlineData("Host: h|Connection: close", false)]
    [InlineData("Host: h|Connection: keep-alive, Close", false)]
    [InlineData("Host: h|Connection: Upgrade", true)]
    public void Http11KeepsTheConnectionUnlessItSaysClose(string headers, bool keepAlive) =>
        Assert.Equal(keepAlive, Accepted(["GET / HTTP/1.1", .. Lines(headers)]).KeepAlive);

    [Theory]
    [InlineData("", false)]
    [InlineData("Connection: keep-alive", true)]
    [InlineData("Connection: Keep-Alive", true)]
    [InlineData("Connection: close", false)]
    [InlineData("Connection: x, keep-alive", true)]
    [InlineData("Connection: keep-alive|Connection: close", true)]
    public void Http10ClosesUnlessItAsksForKeepAlive(string headers, bool keepAlive)
    {
        var head = Accepted(["GET / HTTP/1.0", .. Lines(headers)]);
        Assert.False(head.IsHttp11);
        Assert.Equal(keepAlive, head.KeepAlive);
    }

    [Fact]
    public void Http10NeedsNoHost() => Assert.Null(Accepted("GET / HTTP/1.0").Header("Host"));

    [Theory]
    [InlineData("")]
    [InlineData("Host: a|Host: b")]
    [InlineData("Host: a|host: a")]
    [InlineData("Host: a, b")]
    public void Http11NeedsExactlyOneHost(string headers) => Assert.Equal(400, Refused(["GET / HTTP/1.1", .. Lines(headers)]));

    [Theory]
    [InlineData("Content-Length: 0", 0)]
    [InlineData("Content-Length: 42", 42)]
    [InlineData("Content-Length:42", 42)]
    [InlineData("Content-Length: \t42 \t", 42)]
    [InlineData("content-length: 007", 7)]
    [InlineData("Content-Length: 999999999999999999", 999999999999999999)]
    public void AContentLengthIsDigitsOnly(string header, long length)
    {
        var head = Accepted("POST / HTTP/1.1", "Host: h", header);
        Assert.True(head.HasContentLength);
        Assert.Equal(length, head.ContentLength);
    }

    [Fact]
    public void ARepeatedContentLengthWithTheSameValueIsOneLength()
    {
        var head = Accepted("POST / HTTP/1.1", "Host: h", "Content-Length: 5", "Content-Length: 5");
        Assert.Equal(5, head.ContentLength);
    }

    [Theory]
    [InlineData("Content-Length: 5", "Content-Length: 6")]
    [InlineData("Content-Length: 5", "Content-Length: 05x")]
    [InlineData("Content-Length: 5, 5")]
    [InlineData("Content-Length: 5,6")]
    [InlineData("Content-Length: +5")]
    [InlineData("Content-Length: -1")]
    [InlineData("Content-Length: 5 5")]
    [InlineData("Content-Length: 0x10")]
    [InlineData("Content-Length: 1e3")]
    [InlineData("Content-Length: 5.0")]
    [InlineData("Content-Length:")]
    [InlineData("Content-Length: ")]
    [InlineData("Content-Length: \u00b9")]
    [InlineData("Content-Length: 9999999999999999999")]
    [InlineData("Content-Length: 99999999999999999999999999999999")]
    public void AnyOtherContentLengthIs400(params string[] headers) => Assert.Equal(400, Refused(["POST / HTTP/1.1", "Host: h", .. headers]));

    [Theory]
    [InlineData("Transfer-Encoding: chunked")]
    [InlineData("Transfer-Encoding: Chunked ")]
    [InlineData("transfer-encoding:chunked")]
    public void AChunkedBodyIs411(string header) => Assert.Equal(411, Refused("POST / HTTP/1.1", "Host: h", header));

    [Theory]
    [InlineData("Transfer-Encoding: gzip, chunked")]
    [InlineData("Transfer-Encoding: identity")]
    [InlineData("Transfer-Encoding: chunked, chunked")]
    public void AnotherTransferCodingIs501(string header) => Assert.Equal(501, Refused("POST / HTTP/1.1", "Host: h", header));

    [Theory]
    [InlineData("Transfer-Encoding: chunked", "Content-Length: 5")]
    [InlineData("Content-Length: 5", "Transfer-Encoding: chunked")]
    [InlineData("Content-Length: 0", "Transfer-Encoding: gzip")]
    public void TransferEncodingWithContentLengthIs400(string first, string second) =>
        Assert.Equal(400, Refused("POST / HTTP/1.1", "Host: h", first, second));

    [Fact]
    public void ChunkedOverHttp10IsRefusedToo() => Assert.Equal(411, Refused("POST / HTTP/1.0", "Transfer-Encoding: chunked"));

    [Theory]
    [InlineData("X-A: one", " two")]
    [InlineData("X-A: one", "\ttwo")]
    public void ObsoleteLineFoldingIs400(string first, string fold) => Assert.Equal(400, Refused("GET / HTTP/1.1", "Host: h", first, fold));

    [Theory]
    [InlineData("Host : h")]
    [InlineData("Host\t: h")]
    [InlineData(" Host: h")]
    [InlineData(": value")]
    [InlineData("NoColon")]
    [InlineData("X(A): 1")]
    [InlineData("X\u00e9: 1")]
    [InlineData("X-A: a\u0000b")]
    [InlineData("X-A: a\u0001b")]
    [InlineData("X-A: a\u007fb")]
    [InlineData("X-A: a\rb")]
    [InlineData("X-A: a\nb")]
    public void AMalformedHeaderLineIs400(string header) => Assert.Equal(400, Refused("GET / HTTP/1.1", "Host: h", header));

    [Fact]
    public void ABareLineFeedEndsNothing()
    {
        // A bare LF is not a line break here: it is a control character, in the request line or in a header.
        Assert.Equal(400, Refused("GET / HTTP/1.1\nHost: h"));
        Assert.Equal(400, Refused("GET / HTTP/1.1", "Host: h\nX-A: 1"));
        Assert.Equal(400, Refused("GET /\n HTTP/1.1", "Host: h"));
    }

    [Fact]
    public void HeaderValuesKeepTabsAndObsTextAndAreTrimmed()
    {
        var head = Get("/", "X-A: \t a\tb \u00e9 \t");
        Assert.Equal("a\tb \u00e9", head.Header("x-a"));
    }

    [Fact]
    public void RepeatedHeadersAreJoinedInOrder()
    {
        var head = Get("/", "Accept: a", "X-B: 1", "accept: b");
        Assert.Equal("a, b", head.Header("Accept"));
        Assert.True(head.HeaderHasToken("accept", "B"));
        Assert.False(head.HeaderHasToken("accept", "c"));
    }

    [Fact]
    public void OneHundredHeadersAreTakenAndOneMoreIs431()
    {
        var hundred = Enumerable.Range(1, RequestHead.MaxHeaderCount - 1).Select(i => $"X-{i}: {i}").ToArray();
        Assert.Equal(RequestHead.MaxHeaderCount, Get("/", hundred).Headers.Count);
        Assert.Equal(431, RefusedGet("/", [.. hundred, "X-Last: 1"]));
    }

    [Theory]
    [InlineData("/a\u00e9")]
    [InlineData("/\u00ff")]
    [InlineData("/a\u0000")]
    [InlineData("/a\u0001")]
    [InlineData("/a\u007f")]
    [InlineData("/a\tb")]
    public void NonAsciiAndControlsInTheTargetAre400(string target) => Assert.Equal(400, RefusedGet(target));

    [Theory]
    [InlineData("/a#b")]
    [InlineData("/a?x#b")]
    [InlineData("#")]
    public void AFragmentInTheTargetIs400(string target) => Assert.Equal(400, RefusedGet(target));

    [Theory]
    [InlineData("/a%")]
    [InlineData("/a%2")]
    [InlineData("/a%zz")]
    [InlineData("/a%G0")]
    [InlineData("/%%41")]
    [InlineData("/a%00")]
    [InlineData("/a%00b")]
    [InlineData("/%C3")]
    [InlineData("/%C3%28")]
    [InlineData("/%FF")]
    [InlineData("/%ED%A0%80")]
    [InlineData("/%C0%AF")]
    [InlineData("/%E0%80%AF")]
    public void BadEscapesNulAndInvalidUtf8InThePathAre400(string target) => Assert.Equal(400, RefusedGet(target));

    [Theory]
    [InlineData("/caf%C3%A9", "/café")]
    [InlineData("/a%20b", "/a b")]
    [InlineData("/%41%62", "/Ab")]
    [InlineData("/a+b", "/a+b")]
    [InlineData("/a%2Fb", "/a%2Fb")]
    [InlineData("/a%2fb", "/a%2Fb")]
    [InlineData("/%2F..%2F..%2Fetc", "/%2F..%2F..%2Fetc")]
    [InlineData("/a%3Fb", "/a?b")]
    public void ThePathIsDecodedButAnEncodedSlashStaysEncoded(string target, string path) => Assert.Equal(path, Get(target).Path);

    [Fact]
    public void BadEscapesInTheQueryAreLeftToTheQueryParser()
    {
        var head = Get("/p?a=%zz&b=%00");
        Assert.Equal("/p", head.Path);
        Assert.Equal("?a=%zz&b=%00", head.QueryString);
    }

    [Theory]
    [InlineData("/a/../../b", "/b")]
    [InlineData("/../../../etc/passwd", "/etc/passwd")]
    [InlineData("/a/b/../c", "/a/c")]
    [InlineData("/a/./b", "/a/b")]
    [InlineData("/a/.", "/a/")]
    [InlineData("/a/..", "/")]
    [InlineData("/..", "/")]
    [InlineData("/.", "/")]
    [InlineData("/a/%2E%2E/%2e%2E/b", "/b")]
    [InlineData("/a/%2e/b", "/a/b")]
    [InlineData("//..//x", "//x")]
    [InlineData("/a/..%2F..%2Fb", "/a/..%2F..%2Fb")]
    [InlineData("/.../x", "/.../x")]
    [InlineData("/.a/..b/x.", "/.a/..b/x.")]
    [InlineData("/a/../b?c=/../d", "/b")]
    public void DotSegmentsAreRemovedAndNeverClimbAboveTheRoot(string target, string path)
    {
        var head = Get(target);
        Assert.Equal(path, head.Path);
        Assert.StartsWith("/", head.Path, StringComparison.Ordinal);
        Assert.DoesNotContain("/../", head.Path + "/", StringComparison.Ordinal);
        Assert.DoesNotContain("/./", head.Path + "/", StringComparison.Ordinal);
    }

    [Fact]
    public void AnAbsoluteFormPathHasItsDotSegmentsRemovedToo() => Assert.Equal("/b", Get("http://h/a/../../b").Path);
}
