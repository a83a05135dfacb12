using System.Text;

namespace VizHtml.Hosting.Standalone;

/// <summary>
/// One HTTP/1.1 request's line and headers, parsed strictly (RFC 9112): what the standalone host accepts, and for anything
/// else the status code and reason it answers with before closing the connection.
/// </summary>
internal sealed class RequestHead
{
    /// <summary>The longest request line taken (Kestrel's <c>MaxRequestLineSize</c>).</summary>
    public const int MaxRequestLineBytes = 8 * 1024;

    /// <summary>The most bytes of request line and headers together (Kestrel's <c>MaxRequestHeadersTotalSize</c>, plus the line).</summary>
    public const int MaxHeadBytes = MaxRequestLineBytes + (32 * 1024);

    /// <summary>The most header lines taken (Kestrel's <c>MaxRequestHeaderCount</c>).</summary>
    public const int MaxHeaderCount = 100;

    private readonly Dictionary<string, string> _headers;

    private RequestHead(string method, string path, string rawTarget, string queryString, bool isHttp11, Dictionary<string, string> headers)
    {
        Method = method;
        Path = path;
        RawTarget = rawTarget;
        QueryString = queryString;
        IsHttp11 = isHttp11;
        _headers = headers;
    }

    /// <summary>The method, as sent (methods are case-sensitive).</summary>
    public string Method { get; }

    /// <summary>The path, percent-decoded except for <c>%2F</c>, with dot segments removed.</summary>
    public string Path { get; }

    /// <summary>The request target as sent.</summary>
    public string RawTarget { get; }

    /// <summary>The query with its leading <c>?</c>, or <c>""</c>.</summary>
    public string QueryString { get; }

    /// <summary><see langword="true"/> for HTTP/1.1, <see langword="false"/> for HTTP/1.0.</summary>
    public bool IsHttp11 { get; }

    /// <summary>Every header, names case-insensitive; repeated headers joined with <c>", "</c>.</summary>
    public IReadOnlyDictionary<string, string> Headers => _headers;

    /// <summary>The body's length: Content-Length, or 0 when the request has none.</summary>
    public long ContentLength { get; private set; }

    /// <summary>Whether the request carried a Content-Length header.</summary>
    public bool HasContentLength { get; private set; }

    /// <summary>Whether the connection stays open after this request (HTTP/1.1 unless <c>Connection: close</c>; HTTP/1.0 with keep-alive).</summary>
    public bool KeepAlive { get; private set; }

    /// <summary>A header's value, or <see langword="null"/>.</summary>
    public string? Header(string name) => _headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>Whether a comma-separated header (Connection, Upgrade) holds <paramref name="token"/>, case-insensitive.</summary>
    public bool HeaderHasToken(string name, string token)
    {
        if (Header(name) is not { } value)
        {
            return false;
        }

        foreach (var part in value.Split(','))
        {
            if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Parses a complete head: <paramref name="head"/> holds the request line and header lines, each ended by CRLF, without
    /// the empty line that ends the head. Returns the request, or <see langword="null"/> and the refusal.
    /// </summary>
    public static RequestHead? Parse(ReadOnlySpan<byte> head, out HttpRefusal refusal)
    {
        refusal = default;
        var lineEnd = head.IndexOf("\r\n"u8);
        var requestLine = lineEnd < 0 ? head : head[..lineEnd];
        if (requestLine.Length > MaxRequestLineBytes)
        {
            refusal = new HttpRefusal(414, "The request line is too long.");
            return null;
        }

        if (!TryParseRequestLine(requestLine, out var method, out var target, out var isHttp11, out refusal))
        {
            return null;
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var rest = lineEnd < 0 ? ReadOnlySpan<byte>.Empty : head[(lineEnd + 2)..];
        var count = 0;
        int? contentLength = null;
        long length = 0;
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlySpan<byte>.Empty : rest[(end + 2)..];
            if (++count > MaxHeaderCount)
            {
                refusal = new HttpRefusal(431, $"The request has more than {MaxHeaderCount} headers.");
                return null;
            }

            if (!TryParseHeader(line, out var name, out var value, out refusal))
            {
                return null;
            }

            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                // One length, digits only; a repeated header must repeat the same value (RFC 9110 8.6).
                if (!TryParseLength(value, out var parsed) || (contentLength is not null && parsed != length))
                {
                    refusal = new HttpRefusal(400, "The Content-Length header is invalid.");
                    return null;
                }

                contentLength = 1;
                length = parsed;
            }

            headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
        }

        if (isHttp11 && (!headers.TryGetValue("Host", out var host) || host.Contains(',', StringComparison.Ordinal)))
        {
            refusal = new HttpRefusal(400, "An HTTP/1.1 request needs exactly one Host header.");
            return null;
        }

        if (headers.TryGetValue("Transfer-Encoding", out var coding))
        {
            // A chunked body would need a decoder this host does not have: every browser form post has a Content-Length.
            refusal = coding.Trim().Equals("chunked", StringComparison.OrdinalIgnoreCase) && contentLength is null
                ? new HttpRefusal(411, "Chunked request bodies are not supported: send the body with a Content-Length.")
                : new HttpRefusal(contentLength is null ? 501 : 400, contentLength is null
                    ? "This transfer coding is not supported: send the body with a Content-Length."
                    : "A request may not have both Transfer-Encoding and Content-Length.");
            return null;
        }

        if (!TrySplitTarget(target, method, headers, out var path, out var query, out refusal))
        {
            return null;
        }

        var connection = headers.TryGetValue("Connection", out var c) ? c : string.Empty;
        var request = new RequestHead(method, path, target, query, isHttp11, headers)
        {
            ContentLength = length,
            HasContentLength = contentLength is not null,
        };
        request.KeepAlive = isHttp11 ? !request.HeaderHasToken("Connection", "close") : request.HeaderHasToken("Connection", "keep-alive") && connection.Length > 0;
        return request;
    }

    private static bool TryParseRequestLine(ReadOnlySpan<byte> line, out string method, out string target, out bool isHttp11, out HttpRefusal refusal)
    {
        method = target = string.Empty;
        isHttp11 = false;
        refusal = new HttpRefusal(400, "The request line is malformed.");
        var firstSpace = line.IndexOf((byte)' ');
        if (firstSpace <= 0)
        {
            return false;
        }

        var lastSpace = line.LastIndexOf((byte)' ');
        if (lastSpace == firstSpace)
        {
            return false;
        }

        var methodBytes = line[..firstSpace];
        var targetBytes = line[(firstSpace + 1)..lastSpace];
        var version = line[(lastSpace + 1)..];
        foreach (var b in methodBytes)
        {
            if (!IsTokenChar(b))
            {
                return false;
            }
        }

        // The target is visible ASCII only: no spaces (one space on each side), no controls, no raw non-ASCII bytes.
        if (targetBytes.IsEmpty)
        {
            return false;
        }

        foreach (var b in targetBytes)
        {
            if (b <= 0x20 || b >= 0x7F)
            {
                return false;
            }
        }

        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            isHttp11 = true;
        }
        else if (!version.SequenceEqual("HTTP/1.0"u8))
        {
            // 505 for a well-formed version (HTTP/d.d) this host does not speak; anything else is a malformed line.
            refusal = version.Length == 8 && version.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)version[5]) && version[6] == '.' && char.IsAsciiDigit((char)version[7])
                ? new HttpRefusal(505, "Only HTTP/1.1 and HTTP/1.0 are supported.")
                : new HttpRefusal(400, "The request line is malformed.");
            return false;
        }

        method = Encoding.ASCII.GetString(methodBytes);
        target = Encoding.ASCII.GetString(targetBytes);
        return true;
    }

    private static bool TryParseHeader(ReadOnlySpan<byte> line, out string name, out string value, out HttpRefusal refusal)
    {
        name = value = string.Empty;
        refusal = new HttpRefusal(400, "A header line is malformed.");

        // No obsolete line folding (a line starting with white space) and no white space before the colon (RFC 9112 5.1).
        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }

        foreach (var b in line[..colon])
        {
            if (!IsTokenChar(b))
            {
                return false;
            }
        }

        var raw = line[(colon + 1)..];
        foreach (var b in raw)
        {
            // Field values: visible characters, space, tab, and obs-text; no other controls (CR and LF included).
            if ((b < 0x20 && b != '\t') || b == 0x7F)
            {
                return false;
            }
        }

        name = Encoding.ASCII.GetString(line[..colon]);
        value = Encoding.Latin1.GetString(raw).Trim(' ', '\t');
        return true;
    }

    private static bool TryParseLength(string value, out long length)
    {
        length = 0;
        if (value.Length is 0 or > 18)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            length = (length * 10) + (c - '0');
        }

        return true;
    }

    /// <summary>Splits origin-form (<c>/path?query</c>) or absolute-form (<c>http://host/path?query</c>) into a decoded path and the query.</summary>
    private static bool TrySplitTarget(string target, string method, Dictionary<string, string> headers, out string path, out string query, out HttpRefusal refusal)
    {
        path = query = string.Empty;
        refusal = new HttpRefusal(400, "The request target is malformed.");
        if (target.Contains('#', StringComparison.Ordinal))
        {
            return false;
        }

        var rawPath = target;
        if (!target.StartsWith('/'))
        {
            // Absolute form (RFC 9112 3.2.2): the authority replaces the Host header.
            if (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || method == "CONNECT"
                || !target.AsSpan(uri.Scheme.Length).StartsWith("://", StringComparison.Ordinal))
            {
                return false;
            }

            // The path starts at the first '/' or '?' after the authority; without one it is "/".
            headers["Host"] = uri.Authority;
            var afterAuthority = target.IndexOfAny(['/', '?'], uri.Scheme.Length + 3);
            rawPath = afterAuthority < 0 ? "/" : target[afterAuthority] == '?' ? "/" + target[afterAuthority..] : target[afterAuthority..];
        }

        var question = rawPath.IndexOf('?', StringComparison.Ordinal);
        if (question >= 0)
        {
            query = rawPath[question..];
            rawPath = rawPath[..question];
        }

        if (!TryDecodePath(rawPath, out var decoded))
        {
            return false;
        }

        path = RemoveDotSegments(decoded);
        return true;
    }

    /// <summary>Percent-decodes a path as UTF-8, leaving <c>%2F</c> encoded so it cannot split a segment; fails on bad escapes, bad UTF-8 or NUL.</summary>
    private static bool TryDecodePath(string raw, out string decoded)
    {
        decoded = raw;
        if (!raw.Contains('%', StringComparison.Ordinal))
        {
            return true;
        }

        var bytes = new List<byte>(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '%')
            {
                bytes.Add((byte)raw[i]);
                continue;
            }

            if (i + 2 >= raw.Length || !IsHex(raw[i + 1]) || !IsHex(raw[i + 2]))
            {
                return false;
            }

            var value = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
            if (value == 0)
            {
                return false;
            }

            if (value == '/')
            {
                bytes.AddRange("%2F"u8.ToArray());
            }
            else
            {
                bytes.Add(value);
            }

            i += 2;
        }

        try
        {
            decoded = StrictUtf8.GetString(bytes.ToArray());
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Removes <c>.</c> and <c>..</c> segments (RFC 3986 5.2.4); a path never climbs above <c>/</c>.</summary>
    internal static string RemoveDotSegments(string path)
    {
        if (!path.Contains('.', StringComparison.Ordinal))
        {
            return path;
        }

        var segments = path.Split('/');
        var output = new List<string>(segments.Length);
        for (var i = 1; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            if (segment == ".")
            {
                if (last)
                {
                    output.Add(string.Empty);
                }
            }
            else if (segment == "..")
            {
                if (output.Count > 0)
                {
                    output.RemoveAt(output.Count - 1);
                }

                if (last)
                {
                    output.Add(string.Empty);
                }
            }
            else
            {
                output.Add(segment);
            }
        }

        return "/" + string.Join("/", output);
    }

    // tchar (RFC 9110 5.6.2): letters, digits and !#$%&'*+-.^_`|~
    private static bool IsTokenChar(byte b) =>
        (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
        || b is (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\'' or (byte)'*' or (byte)'+' or (byte)'-' or (byte)'.' or (byte)'^' or (byte)'_' or (byte)'`' or (byte)'|' or (byte)'~';

    private static bool IsHex(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f') or (>= 'A' and <= 'F');

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/// <summary>Why the standalone host refuses a request: the status it answers with and a reason for the body and the log.</summary>
internal readonly record struct HttpRefusal(int StatusCode, string Reason);
