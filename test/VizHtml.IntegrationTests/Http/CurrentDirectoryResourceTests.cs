using System.Net;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

/// <summary>directory: "" (the original's directory='') serves from the program's current directory, which these tests change.</summary>
[Collection("ProcessEnvironment")]
public sealed class CurrentDirectoryResourceTests
{
    private static readonly byte[] PngBytes = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];

    [Theory, OnOwnHosts]
    public async Task AnHtmlPageWithAnEmptyDirectoryServesResourcesFromTheCurrentDirectoryAtRegistration(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.WriteBytes("images/x.png", PngBytes);
        await using var test = await TestServer.StartAsync(host);
        using (InCurrentDirectory(dir.Root))
        {
            test.Server.RegisterHtml("page", "<img src=\"images/x.png\">", directory: "");
        }

        // Served from where the program was at registration, not from wherever it is now.
        using var http = TestHttp.Client(test);
        using var response = await http.GetAsync(new Uri("/vizhtml/page/images/x.png", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(PngBytes, await TestHttp.BytesAsync(response));
    }

    [Theory, OnOwnHosts]
    public async Task AFilePageWithAnEmptyDirectoryServesResourcesFromTheCurrentDirectoryNotTheFilesFolder(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.WriteBytes("images/x.png", PngBytes);
        var file = dir.Write("pages/page.html", "<img src=\"images/x.png\">");
        await using var test = await TestServer.StartAsync(host);
        using (InCurrentDirectory(dir.Root))
        {
            test.Server.RegisterFile("page", file, directory: "");
        }

        using var http = TestHttp.Client(test);
        using var response = await http.GetAsync(new Uri("/vizhtml/page/images/x.png", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PngBytes, await TestHttp.BytesAsync(response));
    }

    private static RestoredCurrentDirectory InCurrentDirectory(string path)
    {
        var before = Environment.CurrentDirectory;
        Environment.CurrentDirectory = path;
        return new RestoredCurrentDirectory(before);
    }

    private sealed class RestoredCurrentDirectory(string before) : IDisposable
    {
        public void Dispose() => Environment.CurrentDirectory = before;
    }
}
