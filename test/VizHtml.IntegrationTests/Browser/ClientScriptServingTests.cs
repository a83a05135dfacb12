using System.Net;
using System.Net.Http.Headers;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>How the server hands vizhtml.js to a browser, checked over plain HTTP (pages and resources: ../Http).</summary>
public sealed class ClientScriptServingTests
{
    [Theory]
    [OnEveryHost("vizhtml/vizhtml.js")]
    [OnEveryHost("vizhtml/demo/vizhtml.js")]
    [OnEveryHost("vizhtml/multi/level/vizhtml.js")]
    public async Task TheScriptIsServedFromTheLibrarySourceWithAStrongETagAndRevalidation(TestHost host, string path)
    {
        await using var server = await TestServer.StartAsync(host);
        server.Server.RegisterHtml("demo", "<!DOCTYPE html><script src=\"vizhtml.js\"></script>");
        server.Server.RegisterHtml("multi/level", "<!DOCTYPE html><script src=\"vizhtml.js\"></script>");
        using var http = NewHttpClient(server);

        using var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await File.ReadAllBytesAsync(SourceScriptPath()), await response.Content.ReadAsByteArrayAsync());
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.True(response.Headers.CacheControl?.NoCache, "The script must be revalidated on every load.");

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, path);
        revalidate.Headers.IfNoneMatch.Add(etag);
        using var notModified = await http.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, notModified.Headers.ETag);

        using var stale = new HttpRequestMessage(HttpMethod.Get, path);
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"an-older-version\""));
        using var changed = await http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal(etag, changed.Headers.ETag);
    }

    private static HttpClient NewHttpClient(TestServer server) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.HttpBase, Timeout = TestServer.Timeout };

    /// <summary>src/VizHtml/Script/vizhtml.js in this checkout: what the embedded copy must equal.</summary>
    private static string SourceScriptPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "VizHtml", "Script", "vizhtml.js");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"src/VizHtml/Script/vizhtml.js was not found above {AppContext.BaseDirectory}.");
    }
}
