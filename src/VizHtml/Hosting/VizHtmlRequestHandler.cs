using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;
using VizHtml.Pages;

namespace VizHtml.Hosting;

/// <summary>
/// Everything under <c>/vizhtml/</c>: the socket endpoint, the browser script, the page index, pages and
/// their resources. Forms and custom request handlers will hook in at <see cref="ServePageAsync"/>.
/// </summary>
internal sealed class VizHtmlRequestHandler(VizHtmlServer server, PageRegistry pages)
{
    public const string Prefix = "/vizhtml";
    public const string SocketPath = "/vizhtml/socket";
    private const string ScriptName = "vizhtml.js";
    private const string DeclarationsName = "vizhtml.d.ts";

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path.Equals(SocketPath, StringComparison.Ordinal))
        {
            await server.AcceptSocketAsync(context).ConfigureAwait(false);
            return;
        }

        if (!path.StartsWith(Prefix, StringComparison.Ordinal) || (path.Length > Prefix.Length && path[Prefix.Length] != '/'))
        {
            await WriteTextAsync(context, StatusCodes.Status404NotFound, "Not found. VizHtml serves pages under /vizhtml/.").ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            await WriteTextAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed.").ConfigureAwait(false);
            return;
        }

        var below = path.Length <= Prefix.Length + 1 ? string.Empty : path[(Prefix.Length + 1)..];

        // The script resolves from any page: <script src="vizhtml.js"> works at /vizhtml/x and /vizhtml/x/.
        if (below == ScriptName || below.EndsWith("/" + ScriptName, StringComparison.Ordinal))
        {
            await ServeScriptAsync(context, ClientScript.Script).ConfigureAwait(false);
        }
        else if (below == DeclarationsName)
        {
            await ServeScriptAsync(context, ClientScript.Declarations).ConfigureAwait(false);
        }
        else if (below.Length == 0)
        {
            await ServeIndexAsync(context).ConfigureAwait(false);
        }
        else if (pages.TryMatch(below, out var page, out var rest))
        {
            await ServePageAsync(context, page, rest).ConfigureAwait(false);
        }
        else
        {
            await WriteTextAsync(context, StatusCodes.Status404NotFound, "No page is registered at this address.").ConfigureAwait(false);
        }
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

    private async Task ServeIndexAsync(HttpContext context)
    {
        var html = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>VizHtml pages</title></head><body><h1>VizHtml pages</h1><ul>");
        foreach (var page in pages.All)
        {
            var url = WebUtility.HtmlEncode(server.GetServerUrl(page.Name).ToString());
            html.Append("<li><a href=\"").Append(url).Append("\">").Append(WebUtility.HtmlEncode(page.Name)).Append("</a> ").Append(url).Append("</li>");
        }

        html.Append("</ul></body></html>");
        context.Response.Headers.CacheControl = "no-cache";
        await WriteAsync(context, StatusCodes.Status200OK, "text/html; charset=utf-8", html.ToString()).ConfigureAwait(false);
    }

    private static async Task ServePageAsync(HttpContext context, Page page, string rest)
    {
        if (rest.Length == 0)
        {
            // Pages behave like directories so that relative URLs (images, vizhtml.js) resolve below them.
            var location = $"{Prefix}/{page.Name}/{context.Request.QueryString}";
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = location;
            return;
        }

        if (rest == "/")
        {
            var html = await page.ReadHtmlAsync(context.RequestAborted).ConfigureAwait(false);
            context.Response.Headers.CacheControl = "no-cache";
            await WriteAsync(context, StatusCodes.Status200OK, "text/html; charset=utf-8", html).ConfigureAwait(false);
            return;
        }

        if (page.ResourceDirectory is null || ResolveResource(page.ResourceDirectory, rest[1..]) is not { } file)
        {
            await WriteTextAsync(context, StatusCodes.Status404NotFound, "Not found.").ConfigureAwait(false);
            return;
        }

        if (!ContentTypes.TryGetContentType(file.Name, out var contentType))
        {
            contentType = "application/octet-stream";
        }

        var lastModified = file.LastWriteTimeUtc;
        var etag = new EntityTagHeaderValue($"\"{lastModified.Ticks:x}-{file.Length:x}\"");
        await Results.File(file.FullName, contentType, lastModified: lastModified, entityTag: etag).ExecuteAsync(context).ConfigureAwait(false);
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
        if (!file.Exists)
        {
            return null;
        }

        // A symlink inside the directory must not lead outside it.
        var target = file.ResolveLinkTarget(returnFinalTarget: true);
        if (target is not null && !Path.GetFullPath(target.FullName).StartsWith(rootWithSlash, StringComparison.Ordinal))
        {
            return null;
        }

        return file;
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
