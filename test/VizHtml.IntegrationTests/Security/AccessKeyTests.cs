using System.Net;
using Microsoft.Extensions.Logging;
using VizHtml.IntegrationTests.Infrastructure;
using static VizHtml.IntegrationTests.Security.SecurityTestSupport;

namespace VizHtml.IntegrationTests.Security;

public sealed class AccessKeyTests
{
    private const string Key = "tablet-pairing-key-4711";

    [Theory]
    [OnOwnHosts("vizhtml/p/")]
    [OnOwnHosts("vizhtml/vizhtml.js")]
    [OnOwnHosts("vizhtml/")]
    [OnOwnHosts("vizhtml/p/?key=wrong-key-0000")]
    public async Task RequestsWithoutTheRightKeyGet401(TestHost host, string path)
    {
        await using var test = await TestServer.StartAsync(host, o => o.AccessKey = Key);
        test.Server.RegisterHtml("p", "<p>panel</p>");
        using var http = NoRedirectClient(test);

        var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("panel", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory, OnOwnHosts]
    public async Task ASocketWithoutTheKeyIsRefusedBeforeTheUpgradeAndWithItConnects(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.AccessKey = Key);

        Assert.Equal(401, await UpgradeStatusAsync(test.SocketUri));
        Assert.Equal(401, await UpgradeStatusAsync(new Uri(test.SocketUri + "?key=nope-nope-nope")));
        Assert.Equal(0, test.Server.ClientCount);
        Assert.Equal(101, await UpgradeStatusAsync(new Uri(test.SocketUri + "?key=" + Key)));
        Assert.Equal(101, await UpgradeStatusAsync(test.SocketUri, o => o.SetRequestHeader("X-VizHtml-Key", Key)));
        Assert.Equal(101, await UpgradeStatusAsync(test.SocketUri, o => o.SetRequestHeader("Cookie", "vizhtml_key=" + Key)));
    }

    [Theory, OnOwnHosts]
    public async Task OpeningAPageWithTheKeyRemembersItInACookieForResourcesAndTheSocket(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.AccessKey = Key);
        test.Server.RegisterHtml("p", "<p>panel</p>");
        using var http = NoRedirectClient(test);

        var first = await http.GetAsync($"vizhtml/p/?key={Key}");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var cookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
        Assert.Contains($"vizhtml_key={Key}", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        using var next = new HttpRequestMessage(HttpMethod.Get, "vizhtml/p/vizhtml.js");
        next.Headers.Add("Cookie", $"vizhtml_key={Key}");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(next)).StatusCode);
    }

    [Theory, OnOwnHosts]
    public async Task ServerUrlsAndTheIndexCarryTheKeySoOpeningAPagePairsATablet(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.AccessKey = Key;
            o.PublicHost = "127.0.0.1";
        });
        test.Server.RegisterHtml("p", "<p>panel</p>");
        using var http = NoRedirectClient(test);

        var url = test.Server.GetServerUrl("p");
        Assert.Equal($"?key={Key}", url.Query);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url)).StatusCode);
        Assert.Equal($"?key={Key}", test.Server.GetLocalUrl().Query);

        var index = await http.GetStringAsync(test.Server.GetLocalUrl());
        Assert.Contains(WebUtility.HtmlEncode(url.ToString()), index, StringComparison.Ordinal);
    }

    [Theory, OnOwnHosts]
    public async Task TheKeyNeverAppearsInAnyLogLine(TestHost host)
    {
        var capture = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.AccessKey = Key;
            o.LoggerFactory = factory;
        });
        test.Server.RegisterHtml("p", "<p>panel</p>");
        using var http = NoRedirectClient(test);

        await http.GetAsync($"vizhtml/p/?key={Key}");
        await http.GetAsync($"vizhtml/missing/?key={Key}");
        await http.GetAsync($"vizhtml/p/?key={Key}x");
        Assert.Equal(101, await UpgradeStatusAsync(new Uri(test.SocketUri + "?key=" + Key)));
        await test.Server.StopAsync();

        var lines = capture.Lines.ToArray();
        Assert.Contains(lines, l => l.Contains("/vizhtml/p/", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(Key, StringComparison.Ordinal));
    }

    [Fact]
    public void AShortKeyIsRefusedNamingTheOption()
    {
        var ex = Assert.Throws<ArgumentException>(() => new VizHtmlServer(new VizHtmlOptions { AccessKey = "1234" }));
        Assert.Contains("AccessKey", ex.Message, StringComparison.Ordinal);
    }
}
