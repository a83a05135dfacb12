using System.Net;
using System.Net.Http.Headers;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>How the server hands vizhtml.js and pages to a browser, checked over plain HTTP.</summary>
public sealed class ClientScriptServingTests
{
    [Theory]
    [InlineData("vizhtml/vizhtml.js")]
    [InlineData("vizhtml/demo/vizhtml.js")]
    [InlineData("vizhtml/demo/sub/vizhtml.js")]
    public async Task TheScriptIsServedFromTheLibrarySourceWithAStrongETagAndRevalidation(string path)
    {
        await using var server = await TestServer.StartAsync();
        server.Server.RegisterHtml("demo", "<!DOCTYPE html><script src=\"vizhtml.js\"></script>");
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

    [Fact]
    public async Task APageAddressWithoutTheTrailingSlashRedirectsToTheDirectoryFormKeepingTheQuery()
    {
        await using var server = await TestServer.StartAsync();
        server.Server.RegisterHtml("demo", "<!DOCTYPE html><p>demo</p>");
        using var http = NewHttpClient(server);

        using var redirect = await http.GetAsync("vizhtml/demo?key=abc");
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        Assert.Equal("/vizhtml/demo/?key=abc", redirect.Headers.Location?.OriginalString);

        using var page = await http.GetAsync("vizhtml/demo/?key=abc");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal("<!DOCTYPE html><p>demo</p>", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnUnknownPageIsNotFoundAndTheSocketEndpointRefusesPlainHttp()
    {
        await using var server = await TestServer.StartAsync();
        using var http = NewHttpClient(server);

        using var missing = await http.GetAsync("vizhtml/nothing-here/");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        using var socket = await http.GetAsync("vizhtml/socket");
        Assert.Equal(HttpStatusCode.BadRequest, socket.StatusCode);
    }

    private static HttpClient NewHttpClient(TestServer server) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.HttpBase, Timeout = TestServer.Timeout };

    /// <summary>src/VizHtml/Client/vizhtml.js in this checkout: what the embedded copy must equal.</summary>
    private static string SourceScriptPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "VizHtml", "Client", "vizhtml.js");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"src/VizHtml/Client/vizhtml.js was not found above {AppContext.BaseDirectory}.");
    }
}
