using System.Net;
using System.Net.Http.Headers;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

public sealed class ResourceServingTests
{
    private static readonly byte[] PngBytes = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0xFF, 0x00, 0x7F];

    [Theory]
    [OnOwnHosts("css/site.css", "text/css")]
    [OnOwnHosts("js/app.js", "text/javascript")]
    [OnOwnHosts("img/logo.png", "image/png")]
    [OnOwnHosts("img/icon.svg", "image/svg+xml")]
    [OnOwnHosts("data/state.json", "application/json")]
    [OnOwnHosts("data/blob.qqq", "application/octet-stream")]
    public async Task ResourceIsServedWithTheContentTypeItsExtensionImplies(TestHost host, string relative, string mediaType)
    {
        using var dir = new TempDirectory();
        var content = relative.EndsWith(".png", StringComparison.Ordinal) ? PngBytes : System.Text.Encoding.UTF8.GetBytes($"content of {relative}");
        dir.Write("site/index.html", "<p>index</p>");
        dir.WriteBytes("site/" + relative, content);
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFolder("site", dir.PathOf("site"));
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/site/" + relative, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content, await TestHttp.BytesAsync(response));
    }

    [Theory, OnOwnHosts]
    public async Task ResourceHasAnETagAndLastModified(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>index</p>");
        var file = dir.Write("site/style.css", "p{}");
        var written = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
        File.SetLastWriteTimeUtc(file, written.UtcDateTime);
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFolder("site", dir.PathOf("site"));
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/site/style.css", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(response.Headers.ETag);
        Assert.False(string.IsNullOrWhiteSpace(response.Headers.ETag.Tag.Trim('"')));
        Assert.Equal(written, response.Content.Headers.LastModified);
    }

    [Theory, OnOwnHosts]
    public async Task ResourceETagChangesWhenTheFileChanges(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>index</p>");
        var file = dir.Write("site/style.css", "p{}");
        File.SetLastWriteTimeUtc(file, new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFolder("site", dir.PathOf("site"));
        using var http = TestHttp.Client(test);
        using var first = await http.GetAsync(new Uri("/vizhtml/site/style.css", UriKind.Relative));

        File.WriteAllText(file, "p{color:red}");
        File.SetLastWriteTimeUtc(file, new DateTime(2024, 1, 2, 0, 0, 0, DateTimeKind.Utc));
        using var revalidate = new HttpRequestMessage(HttpMethod.Get, new Uri("/vizhtml/site/style.css", UriKind.Relative));
        revalidate.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await http.SendAsync(revalidate);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.NotEqual(first.Headers.ETag, second.Headers.ETag);
        Assert.Equal("p{color:red}", await TestHttp.BodyAsync(second));
    }

    [Theory, OnOwnHosts]
    public async Task ConditionalGetWithTheResourceETagGets304AndAnotherETagGets200(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>index</p>");
        dir.Write("site/app.js", "let x = 1;");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFolder("site", dir.PathOf("site"));
        using var http = TestHttp.Client(test);
        using var first = await http.GetAsync(new Uri("/vizhtml/site/app.js", UriKind.Relative));
        var etag = first.Headers.ETag!;

        using var same = new HttpRequestMessage(HttpMethod.Get, new Uri("/vizhtml/site/app.js", UriKind.Relative));
        same.Headers.IfNoneMatch.Add(etag);
        using var notModified = await http.SendAsync(same);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await TestHttp.BytesAsync(notModified));

        using var other = new HttpRequestMessage(HttpMethod.Get, new Uri("/vizhtml/site/app.js", UriKind.Relative));
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        using var full = await http.SendAsync(other);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal("let x = 1;", await TestHttp.BodyAsync(full));
    }

    [Theory, OnOwnHosts]
    public async Task ConditionalGetWithIfModifiedSinceGets304UnlessTheFileIsNewer(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>index</p>");
        var file = dir.Write("site/app.js", "let x = 1;");
        var written = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
        File.SetLastWriteTimeUtc(file, written.UtcDateTime);
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFolder("site", dir.PathOf("site"));
        using var http = TestHttp.Client(test);

        using var same = new HttpRequestMessage(HttpMethod.Get, new Uri("/vizhtml/site/app.js", UriKind.Relative));
        same.Headers.IfModifiedSince = written;
        using var notModified = await http.SendAsync(same);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var older = new HttpRequestMessage(HttpMethod.Get, new Uri("/vizhtml/site/app.js", UriKind.Relative));
        older.Headers.IfModifiedSince = written.AddHours(-1);
        using var full = await http.SendAsync(older);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal("let x = 1;", await TestHttp.BodyAsync(full));
    }

    [Theory]
    [OnOwnHosts("/vizhtml/vizhtml.js")]
    [OnOwnHosts("/vizhtml/withscript/vizhtml.js")]
    public async Task ClientScriptIsServedWithAnETagAndRevalidatesTo304(TestHost host, string path)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("withscript", "<script src='vizhtml.js'></script>");
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.ETag);
        Assert.Contains("WebSocket", await TestHttp.BodyAsync(response), StringComparison.Ordinal);

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        revalidate.Headers.IfNoneMatch.Add(response.Headers.ETag);
        using var notModified = await http.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await TestHttp.BytesAsync(notModified));
    }

    [Theory, OnOwnHosts]
    public async Task ClientScriptBelowAPageIsTheSameAsAtTheRoot(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("withscript", "<script src='vizhtml.js'></script>");
        using var http = TestHttp.Client(test);

        using var root = await http.GetAsync(new Uri("/vizhtml/vizhtml.js", UriKind.Relative));
        using var below = await http.GetAsync(new Uri("/vizhtml/withscript/vizhtml.js", UriKind.Relative));

        Assert.Equal(root.Headers.ETag, below.Headers.ETag);
        Assert.Equal(await TestHttp.BytesAsync(root), await TestHttp.BytesAsync(below));
    }

    [Theory, OnOwnHosts]
    public async Task ClientScriptResolvesFromHtmlInASubfolderOfAFolderPage(TestHost host)
    {
        // sub/other.html with <script src="vizhtml.js"> asks for /vizhtml/<name>/sub/vizhtml.js, as any URL under
        // /vizhtml/ that is not a registered page already gets the script.
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>index</p>");
        dir.Write("site/sub/other.html", "<script src='vizhtml.js'></script>");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFolder("folder", dir.PathOf("site"));
        using var http = TestHttp.Client(test);

        Assert.Equal(HttpStatusCode.OK, (await TestHttp.GetTextAsync(http, "/vizhtml/unregistered/sub/vizhtml.js")).Status);
        Assert.Equal(HttpStatusCode.OK, (await TestHttp.GetTextAsync(http, "/vizhtml/folder/sub/other.html")).Status);

        using var response = await http.GetAsync(new Uri("/vizhtml/folder/sub/vizhtml.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
    }
}
