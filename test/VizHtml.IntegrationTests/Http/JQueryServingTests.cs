using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

/// <summary>
/// The built-in <c>jquery.js</c> that pages written for the original load by relative URL: the pinned jQuery release,
/// served as <c>vizhtml.js</c> is (under the mount and beside every page), unless switched off or shadowed by the page's own.
/// </summary>
public sealed class JQueryServingTests
{
    /// <summary>The pinned release's <c>dist/jquery.min.js</c> (jquery 3.8.0 on npm): its header, length and SHA-256.</summary>
    private const string Header = "/*! jQuery v3.8.0 | (c) OpenJS Foundation and other contributors | jquery.com/license */";
    private const int Length = 88_176;
    private const string Sha256 = "42c9beb67d11f78edb63796d0d9bfb074d0fc1a20b47ad72fcb7fb0f3dc6a6fe";

    [Theory]
    [OnEveryHost("vizhtml/jquery.js")]
    [OnEveryHost("vizhtml/demo/jquery.js")]
    [OnEveryHost("vizhtml/multi/level/jquery.js")]
    [OnEveryHost("vizhtml/demo/sub/jquery.js")]
    public async Task ThePinnedJQueryIsServedUnderTheMountAndBesideEveryPageWithAStrongETagAndRevalidation(TestHost host, string path)
    {
        await using var server = await TestServer.StartAsync(host);
        server.Server.RegisterHtml("demo", "<!DOCTYPE html><script src=\"jquery.js\"></script>");
        server.Server.RegisterHtml("multi/level", "<!DOCTYPE html><script src=\"jquery.js\"></script>");
        using var http = TestHttp.Client(server);

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        AssertIsThePinnedJQuery(await TestHttp.BytesAsync(response));
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.True(response.Headers.CacheControl?.NoCache, "jquery.js must be revalidated on every load, as vizhtml.js.");

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, path);
        revalidate.Headers.IfNoneMatch.Add(etag);
        using var notModified = await http.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await TestHttp.BytesAsync(notModified));
        Assert.Equal(etag, notModified.Headers.ETag);

        using var stale = new HttpRequestMessage(HttpMethod.Get, path);
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"an-older-version\""));
        using var changed = await http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal(etag, changed.Headers.ETag);

        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(etag, head.Headers.ETag);
        Assert.Equal(Length, head.Content.Headers.ContentLength);
        Assert.Empty(await TestHttp.BytesAsync(head));
    }

    [Theory]
    [OnEveryHost("vizhtml/jquery.js")]
    [OnEveryHost("vizhtml/demo/jquery.js")]
    [OnEveryHost("vizhtml/folder/jquery.js")]
    public async Task SwitchedOffThereIsNoBuiltInJQuery(TestHost host, string path)
    {
        using var dir = new TempDirectory();
        dir.Write("index.html", "<!DOCTYPE html><script src=\"jquery.js\"></script>");
        await using var server = await TestServer.StartAsync(host, o => o.ServeJQuery = false);
        server.Server.RegisterHtml("demo", "<!DOCTYPE html><script src=\"jquery.js\"></script>");
        server.Server.RegisterFile("folder", dir.PathOf("index.html"));
        using var http = TestHttp.Client(server);

        var (status, _) = await TestHttp.GetTextAsync(http, path);

        Assert.Equal(HttpStatusCode.NotFound, status);

        // vizhtml.js is not affected.
        var (scriptStatus, _) = await TestHttp.GetTextAsync(http, path.Replace("jquery.js", "vizhtml.js", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, scriptStatus);
    }

    [Theory]
    [OnEveryHost(true)]
    [OnEveryHost(false)]
    public async Task AJQueryInThePagesDirectoryIsServedInsteadOfTheBuiltIn(TestHost host, bool serveJQuery)
    {
        using var dir = new TempDirectory();
        dir.Write("index.html", "<!DOCTYPE html><script src=\"jquery.js\"></script>");
        dir.Write("jquery.js", "window.ownJQuery = true;");
        await using var server = await TestServer.StartAsync(host, o => o.ServeJQuery = serveJQuery);
        server.Server.RegisterFile("own", dir.PathOf("index.html"));
        using var http = TestHttp.Client(server);

        var (status, body) = await TestHttp.GetTextAsync(http, "vizhtml/own/jquery.js");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("window.ownJQuery = true;", body);
    }

    [Fact]
    public async Task APageCannotBeNamedJQueryJs()
    {
        await using var server = new VizHtmlServer(new VizHtmlOptions { Port = 0 });

        var ex = Assert.Throws<ArgumentException>(() => server.RegisterHtml("jquery.js", "<p>shadowing</p>"));

        Assert.Contains("reserved", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("false")]
    public async Task MappedUnderAPathBaseJQueryLivesBelowThePathAndTheSwitchBindsFromConfiguration(string? serveJQuery)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        if (serveJQuery is not null)
        {
            builder.Configuration.AddInMemoryCollection([new("VizHtml:ServeJQuery", serveJQuery)]);
        }

        builder.Services.Configure<VizHtmlOptions>(builder.Configuration.GetSection("VizHtml"));
        builder.Services.AddVizHtml();
        await using var app = builder.Build();
        app.UsePathBase("/lab");
        app.UseRouting();
        app.MapVizHtml("/tools");
        await app.StartAsync().WaitAsync(TestServer.Timeout);
        var server = app.Services.GetRequiredService<VizHtmlServer>();
        server.RegisterHtml("panel", "<!DOCTYPE html><script src=\"jquery.js\"></script>");
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single()).Port;
        using var http = new HttpClient { Timeout = TestServer.Timeout };

        foreach (var path in new[] { "/lab/tools/jquery.js", "/lab/tools/panel/jquery.js" })
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
            if (serveJQuery is null)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                AssertIsThePinnedJQuery(await TestHttp.BytesAsync(response));
            }
            else
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }
        }

        await app.StopAsync().WaitAsync(TestServer.Timeout);
    }

    private static void AssertIsThePinnedJQuery(byte[] body)
    {
        Assert.StartsWith(Header, Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 200)), StringComparison.Ordinal);
        Assert.Equal(Length, body.Length);
        Assert.Equal(Sha256, Convert.ToHexStringLower(SHA256.HashData(body)));
    }
}
