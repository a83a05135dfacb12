using System.Globalization;
using System.Text;

namespace VizHtml.Hosting.Standalone;

/// <summary>The status line and headers of a response, as bytes.</summary>
internal static class ResponseHead
{
    public static byte[] Format(int status, IEnumerable<(string Name, string Value)> headers, TimeProvider time)
    {
        var text = new StringBuilder(256);
        text.Append("HTTP/1.1 ").Append(status.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(ReasonPhrase(status)).Append("\r\n");
        text.Append("Date: ").Append(time.GetUtcNow().ToString("r", CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (var (name, value) in headers)
        {
            text.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        text.Append("\r\n");
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    /// <summary>The reason phrase of the statuses VizHtml answers with (any other gets none, which HTTP/1.1 allows).</summary>
    public static string ReasonPhrase(int status) => status switch
    {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => string.Empty,
    };

    /// <summary>Whether a response with this status has no body at all (RFC 9110 6.4.1).</summary>
    public static bool HasNoBody(int status) => status is (>= 100 and < 200) or 204 or 304;
}
