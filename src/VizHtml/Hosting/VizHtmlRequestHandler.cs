using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using VizHtml.Pages;
using VizHtml.Security;

namespace VizHtml.Hosting;

/// <summary>
/// Everything VizHtml answers over HTTP: the socket endpoint, the browser script, the page index, pages, their
/// resources, form posts (to a page or to <c>/vizhtml_form/</c>) and custom request handlers.
/// </summary>
internal sealed class VizHtmlRequestHandler(VizHtmlServer server, PageRegistry pages, AccessPolicy policy)
{
    public const string Prefix = "/vizhtml";
    public const string SocketPath = "/vizhtml/socket";
    public const string FormPath = "/vizhtml_form";
    private const string ScriptName = "vizhtml.js";
    private const string DeclarationsName = "vizhtml.d.ts";

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (!await AdmitAsync(context, path).ConfigureAwait(false))
        {
            return;
        }

        if (path.Equals(SocketPath, StringComparison.Ordinal))
        {
            await server.AcceptSocketAsync(context).ConfigureAwait(false);
            return;
        }

        if (path is FormPath or FormPath + "/")
        {
            await HandleFormPathAsync(context).ConfigureAwait(false);
            return;
        }

        if (!path.StartsWith(Prefix, StringComparison.Ordinal) || (path.Length > Prefix.Length && path[Prefix.Length] != '/'))
        {
            await WriteTextAsync(context, StatusCodes.Status404NotFound, "Not found. VizHtml serves pages under /vizhtml/.").ConfigureAwait(false);
            return;
        }

        var below = path.Length <= Prefix.Length + 1 ? string.Empty : path[(Prefix.Length + 1)..];
        if (pages.TryMatch(below, out var page, out var rest))
        {
            await ServePageAsync(context, page, rest).ConfigureAwait(false);
            return;
        }

        if (!IsGetOrHead(context))
        {
            await MethodNotAllowedAsync(context).ConfigureAwait(false);
        }
        else if (below == ScriptName || below.EndsWith("/" + ScriptName, StringComparison.Ordinal))
        {
            // The script resolves from any URL under /vizhtml/, registered page or not.
            await ServeScriptAsync(context, ClientScript.Script).ConfigureAwait(false);
        }
        else if (below == DeclarationsName)
        {
            await ServeScriptAsync(context, ClientScript.Declarations).ConfigureAwait(false);
        }
        else if (below.Length == 0)
        {
            context.Response.Headers.CacheControl = "no-cache";
            await WriteAsync(context, StatusCodes.Status200OK, "text/html; charset=utf-8", PageIndex.Render(pages.All, server.GetServerUrl)).ConfigureAwait(false);
        }
        else
        {
            await WriteTextAsync(context, StatusCodes.Status404NotFound, "No page is registered at this address.").ConfigureAwait(false);
        }
    }

    /// <summary>The access policy, before anything else answers: Host, then Origin where a page acts, then the access key.</summary>
    private async Task<bool> AdmitAsync(HttpContext context, string path)
    {
        var request = context.Request;
        if (!policy.IsHostAllowed(request.Host))
        {
            server.Logger.LogWarning("Refused a request for host {Host} from {Address} (not an allowed host name; DNS rebinding?)", request.Host.Host, context.Connection.RemoteIpAddress);
            await WriteTextAsync(context, StatusCodes.Status400BadRequest, "This host name is not allowed; use the server's address or add the name to VizHtmlOptions.AllowedHosts.").ConfigureAwait(false);
            return false;
        }

        // A foreign page may link to this server, but not open its socket or post to its pages (cross-site WebSocket hijacking, CSRF).
        var acts = path == SocketPath || (HttpMethods.IsPost(request.Method) && path is not (FormPath or FormPath + "/"));
        if (acts && !policy.IsOriginAllowed(request))
        {
            server.Logger.LogWarning("Refused {Method} {Path} from origin {Origin} at {Address} (cross-site)", request.Method, path, request.Headers.Origin.ToString(), context.Connection.RemoteIpAddress);
            await WriteTextAsync(context, StatusCodes.Status403Forbidden, "This origin is not allowed; add it to VizHtmlOptions.AllowedOrigins.").ConfigureAwait(false);
            return false;
        }

        if (!policy.HasKey(request, out var fromQuery))
        {
            server.Logger.LogWarning("Refused {Method} {Path} from {Address}: no valid access key", request.Method, path, context.Connection.RemoteIpAddress);
            await WriteTextAsync(context, StatusCodes.Status401Unauthorized, "This VizHtml server needs its access key: open the page from the link or QR code the program shows.").ConfigureAwait(false);
            return false;
        }

        if (fromQuery && path != SocketPath)
        {
            policy.RememberKey(context);
        }

        return true;
    }

    private async Task ServePageAsync(HttpContext context, Page page, string rest)
    {
        VizFormSubmitEvent? formAlreadyRead = null;
        if (page.Handler is { } handler)
        {
            var (response, declinedForm) = await server.RunRequestHandlerAsync(context, page, handler, rest.TrimStart('/')).ConfigureAwait(false);
            if (response is not null)
            {
                await WriteResponseAsync(context, response).ConfigureAwait(false);
                return;
            }

            if (context.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            formAlreadyRead = declinedForm;
        }

        var relative = rest.TrimStart('/');
        if (HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType)
        {
            // A form anywhere on the page (its own URL, or an HTML file below a folder page) goes back where it came from.
            var back = $"{Prefix}/{page.Name}/{(relative.Length == 0 ? string.Empty : Uri.EscapeDataString(relative).Replace("%2F", "/", StringComparison.Ordinal))}{context.Request.QueryString}";
            await SubmitFormAsync(context, page.Name, redirectTo: back, formAlreadyRead).ConfigureAwait(false);
            return;
        }

        if (!IsGetOrHead(context))
        {
            await MethodNotAllowedAsync(context).ConfigureAwait(false);
            return;
        }

        if (rest.Length == 0)
        {
            // Pages behave like directories so that relative URLs (images, vizhtml.js) resolve below them.
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = $"{Prefix}/{page.Name}/{context.Request.QueryString}";
            return;
        }

        if (relative.Length == 0 && page.HasHtml)
        {
            var html = await page.ReadHtmlAsync(context.RequestAborted).ConfigureAwait(false);
            context.Response.Headers.CacheControl = "no-cache";
            await WriteAsync(context, StatusCodes.Status200OK, "text/html; charset=utf-8", html).ConfigureAwait(false);
            return;
        }

        var file = page.ResourceDirectory is null ? null : ResolveResource(page.ResourceDirectory, relative);
        if (file is not null)
        {
            await ServeFileAsync(context, file, contentType: null).ConfigureAwait(false);
        }
        else if (relative == ScriptName || relative.EndsWith("/" + ScriptName, StringComparison.Ordinal))
        {
            // HTML in a subfolder of a folder page finds the script too, unless the page ships its own.
            await ServeScriptAsync(context, ClientScript.Script).ConfigureAwait(false);
        }
        else
        {
            await WriteTextAsync(context, StatusCodes.Status404NotFound, "Not found.").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A post to <c>/vizhtml_form/</c>: from a registered page (known by its Referer) it goes back to that page;
    /// from anywhere else (a local file) the browser gets a confirmation page.
    /// </summary>
    private async Task HandleFormPathAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || !context.Request.HasFormContentType)
        {
            context.Response.Headers.Allow = "POST";
            await WriteTextAsync(context, StatusCodes.Status405MethodNotAllowed, "Post an HTML form here (application/x-www-form-urlencoded or multipart/form-data).").ConfigureAwait(false);
            return;
        }

        string? pageName = null;
        string? redirectTo = null;
        if (Uri.TryCreate(context.Request.Headers.Referer.ToString(), UriKind.Absolute, out var referer)
            && string.Equals(referer.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase)
            && referer.AbsolutePath.StartsWith(Prefix + "/", StringComparison.Ordinal)
            && pages.TryMatch(referer.AbsolutePath[(Prefix.Length + 1)..].TrimEnd('/'), out var page, out _))
        {
            pageName = page.Name;
            redirectTo = referer.PathAndQuery;
        }

        await SubmitFormAsync(context, pageName, redirectTo, formAlreadyRead: null).ConfigureAwait(false);
    }

    private async Task SubmitFormAsync(HttpContext context, string? pageName, string? redirectTo, VizFormSubmitEvent? formAlreadyRead)
    {
        VizFormSubmitEvent form;
        try
        {
            form = formAlreadyRead ?? await FormReader.ReadAsync(context, pageName, VizHtmlServer.FormatAddress(context.Connection.RemoteIpAddress), server.Options.MaxFormBytes).ConfigureAwait(false);
        }
        catch (FormReader.FormRejectedException ex)
        {
            server.Logger.LogWarning("Refused a form from {Address}: {Problem}", context.Connection.RemoteIpAddress, ex.Message);
            await WriteTextAsync(context, ex.StatusCode, ex.Message).ConfigureAwait(false);
            return;
        }

        server.RaiseFormSubmit(form);
        if (server.Options.FormSubmittedHtml is { } confirmation)
        {
            await WriteAsync(context, StatusCodes.Status200OK, "text/html; charset=utf-8", confirmation).ConfigureAwait(false);
        }
        else if (redirectTo is not null)
        {
            // Post/redirect/get: the browser lands back on the page, and reloading it does not post again.
            context.Response.StatusCode = StatusCodes.Status303SeeOther;
            context.Response.Headers.Location = redirectTo;
        }
        else
        {
            await WriteAsync(context, StatusCodes.Status200OK, "text/html; charset=utf-8", DefaultConfirmation).ConfigureAwait(false);
        }
    }

    private const string DefaultConfirmation = """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>Form received</title></head>
        <body><p>Thank you: the form was received.</p><p><a href="javascript:history.back()">Back</a></p></body></html>
        """;

    private static async Task WriteResponseAsync(HttpContext context, VizResponse response)
    {
        foreach (var (name, value) in response.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (response.FilePath is { } path)
        {
            await ServeFileAsync(context, new FileInfo(path), response.ContentType).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = response.StatusCode;
        if (response.Body is { } body)
        {
            context.Response.ContentType = response.ContentType;
            context.Response.ContentLength = body.Length;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
            }
        }
    }

    private static async Task ServeFileAsync(HttpContext context, FileInfo file, string? contentType)
    {
        if (contentType is null && !ContentTypes.TryGetContentType(file.Name, out contentType))
        {
            contentType = "application/octet-stream";
        }

        var lastModified = new DateTimeOffset(file.LastWriteTimeUtc);
        var etag = new EntityTagHeaderValue($"\"{lastModified.UtcTicks:x}-{file.Length:x}\"");
        context.Response.Headers.CacheControl = "no-cache";
        await Results.File(file.FullName, contentType, lastModified: lastModified, entityTag: etag).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static async Task ServeScriptAsync(HttpContext context, ClientScript script)
    {
        var response = context.Response;
        response.Headers.ETag = script.ETag;

        // Revalidate every time: a library upgrade must reach open tablets on their next reload.
        response.Headers.CacheControl = "no-cache";
        if (context.Request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Any(t => t.Trim() == script.ETag || t.Trim() == "*")))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.ContentType = script.ContentType;
        response.ContentLength = script.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(script.Content, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Maps a relative URL path to a file inside <paramref name="root"/>, or <see langword="null"/> when it would leave it.</summary>
    internal static FileInfo? ResolveResource(string root, string relative)
    {
        if (relative.Length == 0 || relative.Contains('\\', StringComparison.Ordinal) || relative.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var rootWithSlash = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(rootWithSlash, relative));
        if (!full.StartsWith(rootWithSlash, StringComparison.Ordinal))
        {
            return null;
        }

        var file = new FileInfo(full);
        if (!file.Exists || !StaysInside(file, rootWithSlash))
        {
            return null;
        }

        return file;
    }

    // A symlink anywhere on the way (the file or a directory above it) must not lead outside the root.
    private static bool StaysInside(FileInfo file, string rootWithSlash)
    {
        var realRoot = RealPath(rootWithSlash.TrimEnd(Path.DirectorySeparatorChar)) + Path.DirectorySeparatorChar;
        var realFile = RealPath(file.FullName);
        return realFile.StartsWith(realRoot, StringComparison.Ordinal);
    }

    private static string RealPath(string path)
    {
        // Resolve each existing segment's link target from the top, so links in parent directories count too.
        var parts = path.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var current = Path.DirectorySeparatorChar.ToString();
        foreach (var part in parts)
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                current = Path.GetFullPath(target.FullName);
            }
        }

        return current;
    }

    private static bool IsGetOrHead(HttpContext context) => HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);

    private static Task MethodNotAllowedAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "GET, HEAD";
        return WriteTextAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed.");
    }

    private static Task WriteTextAsync(HttpContext context, int status, string text) =>
        WriteAsync(context, status, "text/plain; charset=utf-8", text);

    private static async Task WriteAsync(HttpContext context, int status, string contentType, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
