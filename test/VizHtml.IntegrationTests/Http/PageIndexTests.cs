using System.Net;
using System.Text.RegularExpressions;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

public sealed partial class PageIndexTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [GeneratedRegex("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"")]
    private static partial Regex QrImage();

    [Theory, OnOwnHosts]
    public async Task IndexListsEveryPageUrlWithOneQrImagePerPage(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("site/index.html", "<p>folder</p>");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("first", "<p>1</p>");
        test.Server.RegisterFolder("second", dir.PathOf("site"));
        test.Server.RegisterHandler("third/nested", _ => VizResponse.Text("3"));
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/", UriKind.Relative));
        var html = await TestHttp.BodyAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        foreach (var name in new[] { "first", "second", "third/nested" })
        {
            Assert.Contains(test.Server.GetServerUrl(name).ToString(), html, StringComparison.Ordinal);
        }

        Assert.Equal(3, TestHttp.CountOf(html, "<img"));
        Assert.Equal(3, TestHttp.CountOf(html, "data:image/png;base64,"));
        var images = QrImage().Matches(html);
        Assert.Equal(3, images.Count);
        Assert.All(images, m => Assert.Equal(PngSignature, Convert.FromBase64String(m.Groups[1].Value)[..PngSignature.Length]));
    }

    [Theory, OnOwnHosts]
    public async Task IndexFollowsRegistrationsAndRemovals(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var http = TestHttp.Client(test);

        var (_, empty) = await TestHttp.GetTextAsync(http, "/vizhtml/");
        Assert.Equal(0, TestHttp.CountOf(empty, "<img"));

        test.Server.RegisterHtml("one", "<p>1</p>");
        test.Server.RegisterHtml("two", "<p>2</p>");
        var (_, both) = await TestHttp.GetTextAsync(http, "/vizhtml/");
        Assert.Equal(2, TestHttp.CountOf(both, "<img"));

        test.Server.UnregisterPage("one");
        var (_, remaining) = await TestHttp.GetTextAsync(http, "/vizhtml/");
        Assert.Equal(1, TestHttp.CountOf(remaining, "<img"));
        Assert.Equal(1, TestHttp.CountOf(remaining, "data:image/png;base64,"));
        Assert.DoesNotContain(test.Server.GetServerUrl("one").ToString(), remaining, StringComparison.Ordinal);
        Assert.Contains(test.Server.GetServerUrl("two").ToString(), remaining, StringComparison.Ordinal);
    }

    [Theory, OnOwnHosts]
    public async Task IndexWithoutTheTrailingSlashIsAlsoServed(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("one", "<p>1</p>");
        using var http = TestHttp.Client(test);

        var (status, html) = await TestHttp.GetTextAsync(http, "/vizhtml");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(test.Server.GetServerUrl("one").ToString(), html, StringComparison.Ordinal);
    }
}
