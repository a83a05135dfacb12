using System.Net;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

/// <summary>
/// One server per own host (embedded, standalone) with a folder page "p" whose directory sits next to a secret file; every
/// way of reaching the secret through the page's URL must be refused. Requests go over raw TCP so the target reaches the
/// server as written.
/// </summary>
public sealed class PathTraversalFixture : IAsyncLifetime
{
    internal TempDirectory Directory { get; } = new();

    public string Secret { get; } = "TOP-SECRET-" + Guid.NewGuid().ToString("N");

    private readonly Dictionary<TestHost, TestServer> _servers = [];

    public TestServer For(TestHost host) => _servers[host];

    public async Task InitializeAsync()
    {
        // <root>/secret.txt and <root>/outside/inner-secret.txt are outside the page directory <root>/page.
        Directory.Write("secret.txt", Secret);
        Directory.Write("outside/inner-secret.txt", Secret);
        Directory.Write("page/index.html", "<p>page index</p>");
        Directory.Write("page/sub/inside.txt", "inside content");
        Directory.Write("page/real.txt", "real content");

        File.CreateSymbolicLink(Directory.PathOf("page/link-out-absolute.txt"), Directory.PathOf("secret.txt"));
        File.CreateSymbolicLink(Directory.PathOf("page/link-out-relative.txt"), "../secret.txt");
        System.IO.Directory.CreateSymbolicLink(Directory.PathOf("page/dir-out"), Directory.PathOf("outside"));
        System.IO.Directory.CreateSymbolicLink(Directory.PathOf("page/sub/dir-out-relative"), "../../outside");

        // Controls: links that stay inside the page directory are served, so a 404 above is the check, not a blanket refusal.
        File.CreateSymbolicLink(Directory.PathOf("page/link-in.txt"), "real.txt");
        System.IO.Directory.CreateSymbolicLink(Directory.PathOf("page/dir-in"), Directory.PathOf("page/sub"));

        foreach (var host in new[] { TestHost.Embedded, TestHost.Standalone })
        {
            var test = await TestServer.StartAsync(host);
            _servers[host] = test;
            test.Server.RegisterFolder("p", Directory.PathOf("page"));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var test in _servers.Values)
        {
            await test.DisposeAsync();
        }

        Directory.Dispose();
    }
}

public sealed class PathTraversalTests(PathTraversalFixture fixture) : IClassFixture<PathTraversalFixture>
{
    [Theory]
    [OnOwnHosts("/vizhtml/p/../secret.txt")]
    [OnOwnHosts("/vizhtml/p/sub/../../secret.txt")]
    [OnOwnHosts("/vizhtml/p/..%2fsecret.txt")]
    [OnOwnHosts("/vizhtml/p/..%2Fsecret.txt")]
    [OnOwnHosts("/vizhtml/p/sub/..%2f..%2fsecret.txt")]
    [OnOwnHosts("/vizhtml/p/%2e%2e/secret.txt")]
    [OnOwnHosts("/vizhtml/p/%2E%2E/secret.txt")]
    [OnOwnHosts("/vizhtml/p/%2e%2e%2fsecret.txt")]
    [OnOwnHosts("/vizhtml/p/..%5csecret.txt")]
    [OnOwnHosts("/vizhtml/p/..%5Csecret.txt")]
    [OnOwnHosts("/vizhtml/p/%2e%2e%5csecret.txt")]
    [OnOwnHosts("/vizhtml/p/..%252fsecret.txt")]
    [OnOwnHosts("/vizhtml/p/....//secret.txt")]
    [OnOwnHosts("/vizhtml/p/.../secret.txt")]
    [OnOwnHosts("/vizhtml/p/outside/../../secret.txt")]
    [OnOwnHosts("/vizhtml/p/link-out-absolute.txt")]
    [OnOwnHosts("/vizhtml/p/link-out-relative.txt")]
    [OnOwnHosts("/vizhtml/p/dir-out/inner-secret.txt")]
    [OnOwnHosts("/vizhtml/p/sub/dir-out-relative/inner-secret.txt")]
    public async Task TraversalOutOfThePageDirectoryIsRefusedWith404(TestHost host, string target)
    {
        var response = await RawHttp.GetAsync(fixture.For(host).Port, target);

        Assert.DoesNotContain(fixture.Secret, response.Body, StringComparison.Ordinal);
        Assert.Equal(404, response.Status);
    }

    [Theory]
    [OnOwnHosts("/vizhtml/p/%00/../secret.txt")]
    [OnOwnHosts("/vizhtml/p/..%00/secret.txt")]
    [OnOwnHosts("/vizhtml/p/link-out-absolute.txt%00.css")]
    public async Task PathsWithANulByteAreRefused(TestHost host, string target)
    {
        var response = await RawHttp.GetAsync(fixture.For(host).Port, target);

        // Kestrel itself answers 400 to a NUL in the path before VizHtml sees it; either refusal will do.
        Assert.DoesNotContain(fixture.Secret, response.Body, StringComparison.Ordinal);
        Assert.Contains(response.Status, new[] { 400, 404 });
    }

    [Theory]
    [OnOwnHosts("/vizhtml/p//etc/passwd")]
    [OnOwnHosts("/vizhtml/p/%2fetc%2fpasswd")]
    [OnOwnHosts("/vizhtml/p/%2Fetc%2Fpasswd")]
    [OnOwnHosts("/vizhtml/p///etc/passwd")]
    [OnOwnHosts("/vizhtml/p/../../../../../../etc/passwd")]
    [OnOwnHosts("/vizhtml/p/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd")]
    [OnOwnHosts("/vizhtml/p/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd")]
    public async Task AbsoluteSystemPathsBelowThePageAreRefusedWith404(TestHost host, string target)
    {
        var response = await RawHttp.GetAsync(fixture.For(host).Port, target);

        Assert.DoesNotContain("root:", response.Body, StringComparison.Ordinal);
        Assert.Equal(404, response.Status);
    }

    [Theory, OnOwnHosts]
    public async Task TraversalWithAnUncanonicalizedHttpClientUriIsRefusedWith404(TestHost host)
    {
        using var http = TestHttp.Client(fixture.For(host));
        foreach (var relative in new[] { "../secret.txt", "..%2fsecret.txt", "%2e%2e/secret.txt", "%2e%2e%2fsecret.txt", "..%5csecret.txt" })
        {
            var uri = new Uri($"{fixture.For(host).HttpBase}vizhtml/p/{relative}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
            using var response = await http.GetAsync(uri);
            var body = await TestHttp.BodyAsync(response);

            Assert.DoesNotContain(fixture.Secret, body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Theory]
    [OnOwnHosts("/vizhtml/p/real.txt", "real content")]
    [OnOwnHosts("/vizhtml/p/sub/inside.txt", "inside content")]
    [OnOwnHosts("/vizhtml/p/sub/../real.txt", "real content")]
    [OnOwnHosts("/vizhtml/p/link-in.txt", "real content")]
    [OnOwnHosts("/vizhtml/p/dir-in/inside.txt", "inside content")]
    public async Task PathsThatStayInsideThePageDirectoryAreServed(TestHost host, string target, string content)
    {
        var response = await RawHttp.GetAsync(fixture.For(host).Port, target);

        Assert.Equal(200, response.Status);
        Assert.Contains(content, response.Body, StringComparison.Ordinal);
    }
}
