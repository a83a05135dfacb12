using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;

namespace VizHtml.Http;

/// <summary>
/// One HTTP request and its answer, as a host hands it to <see cref="HttpEndpoint"/>: the seam between VizHtml's
/// host-neutral HTTP code and a web server. The Kestrel adapter (<c>Hosting/Kestrel/KestrelExchange.cs</c>) fills it from an
/// ASP.NET Core <c>HttpContext</c>; a host without ASP.NET Core fills it from its own parser.
/// </summary>
internal abstract class HttpExchange
{
    /// <summary>The method, upper case (<c>GET</c>, <c>POST</c>).</summary>
    public abstract string Method { get; }

    /// <summary>The request path below the app's path base, percent-decoded except for <c>%2F</c>.</summary>
    public abstract string Path { get; }

    /// <summary>The app's path base (<c>""</c> on the embedded server), put in front of every URL VizHtml writes.</summary>
    public abstract string PathBase { get; }

    /// <summary>The raw query string with its leading <c>?</c>, or <c>""</c>.</summary>
    public abstract string QueryString { get; }

    /// <summary>The query string parsed: names to values.</summary>
    public abstract IReadOnlyDictionary<string, IReadOnlyList<string>> Query { get; }

    /// <summary>A request header's value (repeated headers joined with commas), or <see langword="null"/>.</summary>
    public abstract string? Header(string name);

    /// <summary>Every request header (names case-insensitive).</summary>
    public abstract IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>A request cookie's value, or <see langword="null"/>.</summary>
    public abstract string? Cookie(string name);

    /// <summary><c>http</c> or <c>https</c>.</summary>
    public abstract string Scheme { get; }

    /// <summary>The Host header as sent (<c>name:port</c>, <c>[v6]:port</c>), or <c>""</c>.</summary>
    public abstract string Host { get; }

    /// <summary>The peer's address.</summary>
    public abstract IPAddress? RemoteAddress { get; }

    /// <summary>The user the host authenticated, if any.</summary>
    public abstract ClaimsPrincipal? User { get; }

    /// <summary>Fires when the peer goes away.</summary>
    public abstract CancellationToken Aborted { get; }

    /// <summary>Whether the request is a WebSocket upgrade.</summary>
    public abstract bool IsWebSocketRequest { get; }

    /// <summary>Completes the upgrade; the host's own WebSocket framing (and keep-alive pings) carry the connection.</summary>
    /// <param name="sendBufferBytes">
    /// The operating system's send buffer for the connection's socket, where the host can set it (0 leaves it to the
    /// system): what a slow reader has waiting below VizHtml's own queue, where its delivery class no longer applies.
    /// </param>
    public abstract Task<WebSocket> AcceptWebSocketAsync(int sendBufferBytes);

    /// <summary>Whether the body is a form (<c>application/x-www-form-urlencoded</c> or <c>multipart/form-data</c>).</summary>
    public abstract bool HasFormContentType { get; }

    /// <summary>The request's Content-Length, or <see langword="null"/> when it has none (a chunked body).</summary>
    public abstract long? ContentLength { get; }

    /// <summary>
    /// Reads the form body, once, within <paramref name="maxBytes"/>: text fields in memory, files in memory up to
    /// <see cref="FormSpoolFolder.MemoryThreshold"/> bytes for the whole form and past that into <paramref name="spool"/>.
    /// </summary>
    /// <exception cref="FormRejectedException">The form is too large (413), malformed (400) or too slow for the host (408).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired, or the peer went away.</exception>
    public abstract Task<FormContent> ReadFormAsync(long maxBytes, FormSpool spool, CancellationToken cancellationToken);

    /// <summary>Sets a response header.</summary>
    public abstract void SetHeader(string name, string value);

    /// <summary>Sets a cookie for the whole site: HTTP-only, SameSite=Strict, Secure over https.</summary>
    public abstract void SetCookie(string name, string value);

    /// <summary>Answers with a status and an optional body (no body is written for <c>HEAD</c>).</summary>
    public abstract Task RespondAsync(int status, string? contentType, ReadOnlyMemory<byte> body);

    /// <summary>Answers with a file, with conditional requests (ETag, Last-Modified) and ranges.</summary>
    /// <param name="file">The file.</param>
    /// <param name="contentType">Its content type; <see langword="null"/> for the one its extension implies (the host's table).</param>
    /// <param name="lastModified">Its Last-Modified validator.</param>
    /// <param name="etag">Its entity tag, quoted.</param>
    public abstract Task SendFileAsync(FileInfo file, string? contentType, DateTimeOffset lastModified, string etag);

    public bool IsGet => Method == "GET";

    public bool IsHead => Method == "HEAD";

    public bool IsPost => Method == "POST";

    public bool IsGetOrHead => IsGet || IsHead;
}

/// <summary>The fields and files of a form, as read by the host (the files may be in a <see cref="FormSpool"/>).</summary>
internal sealed record FormContent(IReadOnlyDictionary<string, IReadOnlyList<string>> Fields, IReadOnlyList<VizFormFile> Files);

/// <summary>Thrown for a form that is refused; <see cref="StatusCode"/> is the answer (413 too large, 400 malformed, 408 too slow).</summary>
internal sealed class FormRejectedException(int statusCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int StatusCode { get; } = statusCode;
}
