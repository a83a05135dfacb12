using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;
using VizHtml.Http;

namespace VizHtml.Hosting.Kestrel;

/// <summary>The Kestrel (ASP.NET Core) side of the HTTP seam: an <see cref="HttpContext"/> seen as an <see cref="HttpExchange"/>.</summary>
internal sealed class KestrelExchange(HttpContext context) : HttpExchange
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();
    private IReadOnlyDictionary<string, IReadOnlyList<string>>? _query;
    private IReadOnlyDictionary<string, string>? _headers;

    public override string Method => context.Request.Method;

    public override string Path => context.Request.Path.Value ?? string.Empty;

    public override string PathBase => context.Request.PathBase.Value ?? string.Empty;

    public override string QueryString => context.Request.QueryString.Value ?? string.Empty;

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Query =>
        _query ??= context.Request.Query.ToDictionary(q => q.Key, q => (IReadOnlyList<string>)q.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.Ordinal);

    public override IReadOnlyDictionary<string, string> Headers =>
        _headers ??= context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);

    public override string Scheme => context.Request.Scheme;

    public override string Host => context.Request.Host.Value ?? string.Empty;

    public override IPAddress? RemoteAddress => context.Connection.RemoteIpAddress;

    public override ClaimsPrincipal? User => context.User.Identity?.IsAuthenticated == true ? context.User : null;

    public override CancellationToken Aborted => context.RequestAborted;

    public override bool IsWebSocketRequest => context.WebSockets.IsWebSocketRequest;

    public override bool HasFormContentType => context.Request.HasFormContentType;

    public override string? Header(string name) => context.Request.Headers.TryGetValue(name, out var values) ? values.ToString() : null;

    public override string? Cookie(string name) => context.Request.Cookies[name];

    public override Task<WebSocket> AcceptWebSocketAsync(int sendBufferBytes)
    {
        // Kestrel's socket transport exposes the socket (another transport may not: then the system's sizing stays).
        if (sendBufferBytes > 0 && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            try
            {
                socket.SendBufferSize = sendBufferBytes;
            }
            catch (SocketException)
            {
                // The connection went away meanwhile; the upgrade below finds out.
            }
        }

        return context.WebSockets.AcceptWebSocketAsync();
    }

    public override long? ContentLength => context.Request.ContentLength;

    public override Task<FormContent> ReadFormAsync(long maxBytes, FormSpool spool, CancellationToken cancellationToken) =>
        FormReader.ReadAsync(context, maxBytes, spool, cancellationToken);

    public override void SetHeader(string name, string value) => context.Response.Headers[name] = value;

    public override void SetCookie(string name, string value) => context.Response.Cookies.Append(name, value, new CookieOptions
    {
        HttpOnly = true,
        SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict,
        Path = "/",
        Secure = context.Request.IsHttps,
        IsEssential = true,
    });

    public override async Task RespondAsync(int status, string? contentType, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        response.StatusCode = status;
        if (contentType is null)
        {
            return;
        }

        response.ContentType = contentType;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    public override async Task SendFileAsync(FileInfo file, string? contentType, DateTimeOffset lastModified, string etag)
    {
        if (contentType is null && !ContentTypes.TryGetContentType(file.Name, out contentType))
        {
            contentType = "application/octet-stream";
        }

        await Results.File(file.FullName, contentType, lastModified: lastModified, entityTag: new EntityTagHeaderValue(etag)).ExecuteAsync(context).ConfigureAwait(false);
    }
}
