using System.Net;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

public sealed class PageServingTests
{
    [Theory, OnOwnHosts]
    public async Task HtmlPageIsServedAtItsSlashUrlAsUtf8Html(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("hello", "<!DOCTYPE html><p>Grüße from the page</p>");
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/hello/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("<!DOCTYPE html><p>Grüße from the page</p>", await TestHttp.BodyAsync(response));
    }

    [Theory]
    [OnOwnHosts("/vizhtml/hello", "/vizhtml/hello/")]
    [OnOwnHosts("/vizhtml/hello?x=1&y=two%20words", "/vizhtml/hello/?x=1&y=two%20words")]
    [OnOwnHosts("/vizhtml/deep/page?k=v", "/vizhtml/deep/page/?k=v")]
    public async Task PageUrlWithoutTrailingSlashRedirectsToTheSlashUrlKeepingTheQuery(TestHost host, string requested, string expectedLocation)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("hello", "<p>hello</p>");
        test.Server.RegisterHtml("deep/page", "<p>deep</p>");
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri(requested, UriKind.Relative));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(expectedLocation, response.Headers.Location?.OriginalString);
    }

    [Theory, OnOwnHosts]
    public async Task FilePageIsServedAndReadAgainOnEachRequest(TestHost host)
    {
        using var dir = new TempDirectory();
        var file = dir.Write("page.html", "<p>first version</p>");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFile("filepage", file);
        using var http = TestHttp.Client(test);

        using (var response = await http.GetAsync(new Uri("/vizhtml/filepage/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            Assert.Equal("<p>first version</p>", await TestHttp.BodyAsync(response));
        }

        File.WriteAllText(file, "<p>edited version</p>");
        Assert.Equal((HttpStatusCode.OK, "<p>edited version</p>"), await TestHttp.GetTextAsync(http, "/vizhtml/filepage/"));
    }

    [Theory, OnOwnHosts]
    public async Task FilePageServesResourcesFromItsOwnDirectory(TestHost host)
    {
        using var dir = new TempDirectory();
        var file = dir.Write("page.html", "<link rel=stylesheet href=style.css>");
        dir.Write("style.css", "p { color: red }");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFile("filepage", file);
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/filepage/style.css", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("p { color: red }", await TestHttp.BodyAsync(response));
    }

    [Theory, OnOwnHosts]
    public async Task FolderPageServesItsIndexAndAssetsInSubfolders(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>folder index</p>");
        dir.Write("site/css/site.css", "body{}");
        dir.Write("site/js/app.js", "console.log(1);");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFolder("folder", dir.PathOf("site"));
        using var http = TestHttp.Client(test);

        using (var index = await http.GetAsync(new Uri("/vizhtml/folder/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
            Assert.Equal("text/html; charset=utf-8", index.Content.Headers.ContentType?.ToString());
            Assert.Equal("<p>folder index</p>", await TestHttp.BodyAsync(index));
        }

        Assert.Equal((HttpStatusCode.OK, "body{}"), await TestHttp.GetTextAsync(http, "/vizhtml/folder/css/site.css"));
        Assert.Equal((HttpStatusCode.OK, "console.log(1);"), await TestHttp.GetTextAsync(http, "/vizhtml/folder/js/app.js"));
        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/vizhtml/folder/css/missing.css")).Status);
    }

    [Theory, OnOwnHosts]
    public async Task FolderPageWithAnotherIndexFileServesThatFile(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>default index</p>");
        dir.Write("site/main.html", "<p>main page</p>");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFolder("folder", dir.PathOf("site"), "main.html");
        using var http = TestHttp.Client(test);

        Assert.Equal((HttpStatusCode.OK, "<p>main page</p>"), await TestHttp.GetTextAsync(http, "/vizhtml/folder/"));
    }

    [Theory, OnOwnHosts]
    public async Task HtmlPageWithDirectoryServesResourcesFromIt(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("img/a.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("withdir", "<img src='img/a.svg'>", dir.Root);
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/withdir/img/a.svg", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory, OnOwnHosts]
    public async Task HtmlPageWithoutDirectoryHasNoResources(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("bare", "<p>bare</p>");
        using var http = TestHttp.Client(test);

        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/vizhtml/bare/style.css")).Status);
    }

    [Theory, OnOwnHosts]
    public async Task RegisteringANameAgainReplacesTheContent(TestHost host)
    {
        using var dir = new TempDirectory();
        var file = dir.Write("second.html", "<p>second, from a file</p>");
        await using var test = await TestServer.StartAsync(host);
        using var http = TestHttp.Client(test);

        test.Server.RegisterHtml("page", "<p>first</p>");
        Assert.Equal((HttpStatusCode.OK, "<p>first</p>"), await TestHttp.GetTextAsync(http, "/vizhtml/page/"));

        test.Server.RegisterFile("page", file);
        Assert.Equal((HttpStatusCode.OK, "<p>second, from a file</p>"), await TestHttp.GetTextAsync(http, "/vizhtml/page/"));

        test.Server.RegisterHtml("page", "<p>third</p>");
        Assert.Equal((HttpStatusCode.OK, "<p>third</p>"), await TestHttp.GetTextAsync(http, "/vizhtml/page/"));
    }

    [Theory, OnOwnHosts]
    public async Task UnregisterPageMakesOnlyThatPage404(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>gone soon</p>");
        dir.Write("site/a.css", "a{}");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterFolder("gone", dir.PathOf("site"));
        test.Server.RegisterHtml("stays", "<p>stays</p>");
        using var http = TestHttp.Client(test);
        Assert.Equal(HttpStatusCode.OK, (await TestHttp.GetTextAsync(http, "/vizhtml/gone/")).Status);

        Assert.True(test.Server.UnregisterPage("gone"));

        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/vizhtml/gone/")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/vizhtml/gone")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/vizhtml/gone/a.css")).Status);
        Assert.Equal((HttpStatusCode.OK, "<p>stays</p>"), await TestHttp.GetTextAsync(http, "/vizhtml/stays/"));
        Assert.False(test.Server.UnregisterPage("gone"));
    }

    [Theory, OnOwnHosts]
    public async Task UnregisterAllPagesMakesEveryPage404(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("one", "<p>1</p>");
        test.Server.RegisterHtml("two", "<p>2</p>");
        test.Server.RegisterHandler("three", _ => VizResponse.Text("3"));
        using var http = TestHttp.Client(test);
        foreach (var name in new[] { "one", "two", "three" })
        {
            Assert.Equal(HttpStatusCode.OK, (await TestHttp.GetTextAsync(http, $"/vizhtml/{name}/")).Status);
        }

        test.Server.UnregisterAllPages();

        foreach (var name in new[] { "one", "two", "three" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, $"/vizhtml/{name}/")).Status);
        }
    }

    [Theory, OnOwnHosts]
    public async Task NestedPageNameWinsOverItsParentForItsOwnUrls(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("a", "<p>parent</p>");
        test.Server.RegisterHtml("a/b", "<p>child</p>");
        using var http = TestHttp.Client(test);

        Assert.Equal((HttpStatusCode.OK, "<p>parent</p>"), await TestHttp.GetTextAsync(http, "/vizhtml/a/"));
        Assert.Equal((HttpStatusCode.OK, "<p>child</p>"), await TestHttp.GetTextAsync(http, "/vizhtml/a/b/"));
    }

    [Theory, OnOwnHosts]
    public async Task UnknownPageAndUrlsOutsideVizhtmlAre404(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("known", "<p>known</p>");
        using var http = TestHttp.Client(test);

        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/vizhtml/unknown/")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/known/")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/vizhtmlknown/")).Status);
    }

    [Theory]
    [OnOwnHosts("/", "/vizhtml/")]
    [OnOwnHosts("/?key=abc", "/vizhtml/?key=abc")]
    public async Task AnOwnServersRootRedirectsToTheIndex(TestHost host, string url, string location)
    {
        await using var test = await TestServer.StartAsync(host);
        using var http = Security.SecurityTestSupport.NoRedirectClient(test);

        using var response = await http.GetAsync(new Uri(url, UriKind.Relative));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(location, response.Headers.Location?.OriginalString);
    }

    [Theory, OnOwnHosts]
    public async Task AnOwnServerAnswersFaviconWithNoContent(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/favicon.ico", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/favicon.ico")]
    public async Task UnderMapVizHtmlTheAppKeepsTheRootAndFavicon(string url)
    {
        // The test app maps nothing at / or /favicon.ico, so the app's own 404 answers, not VizHtml.
        await using var test = await TestServer.StartAsync(TestHost.Mapped);
        using var http = Security.SecurityTestSupport.NoRedirectClient(test);

        using var response = await http.GetAsync(new Uri(url, UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory, OnOwnHosts]
    public async Task HeadOfAPageHasTheHeadersButNoBody(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("hello", "<p>twelve chars</p>");
        using var http = TestHttp.Client(test);

        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri("/vizhtml/hello/", UriKind.Relative)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("<p>twelve chars</p>".Length, response.Content.Headers.ContentLength);
        Assert.Empty(await TestHttp.BytesAsync(response));
    }
}
