using System.Net;
using Microsoft.Extensions.Logging;
using VizHtml.IntegrationTests.Infrastructure;
using static VizHtml.IntegrationTests.Security.SecurityTestSupport;

namespace VizHtml.IntegrationTests.Security;

public sealed class OriginAndHostTests
{
    [Theory]
    [OnOwnHosts("http://evil.example")]
    [OnOwnHosts("http://127.0.0.1:{port}.evil.example")]
    [OnOwnHosts("http://evil.example/127.0.0.1:{port}")]
    [OnOwnHosts("https://127.0.0.1:{port}")]
    [OnOwnHosts("http://127.0.0.1:{other}")]
    [OnOwnHosts("http://localhost:{port}")]
    [OnOwnHosts("null")]
    public async Task ACrossOriginSocketUpgradeIsRefusedBeforeTheUpgrade(TestHost host, string origin)
    {
        await using var test = await TestServer.StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        var value = origin.Replace("{port}", $"{test.Server.Port}", StringComparison.Ordinal).Replace("{other}", $"{test.Server.Port + 1}", StringComparison.Ordinal);

        Assert.Equal(403, await UpgradeStatusAsync(test.SocketUri, o => o.SetRequestHeader("Origin", value)));
        Assert.Equal(0, test.Server.ClientCount);

        // The server and its same-origin pages carry on.
        Assert.Equal(101, await UpgradeStatusAsync(test.SocketUri, o => o.SetRequestHeader("Origin", $"http://127.0.0.1:{test.Server.Port}")));
    }

    [Theory]
    [OnOwnHosts("null")]
    [OnOwnHosts("http://dashboard.lab.example")]
    public async Task ARefusedOriginIsLoggedWithTheAllowedOriginsValueThatWouldAdmitIt(TestHost host, string origin)
    {
        var capture = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        // Dual-stack, so the IPv4 client arrives as ::ffff:127.0.0.1 and must be written as events write it.
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.BindAddress = IPAddress.IPv6Any;
            o.LoggerFactory = factory;
        });

        Assert.Equal(403, await UpgradeStatusAsync(test.SocketUri, o => o.SetRequestHeader("Origin", origin)));

        var line = Assert.Single(capture.Lines, l => l.Contains("Refused GET /vizhtml/socket", StringComparison.Ordinal));
        Assert.Contains($"add \"{origin}\" to VizHtmlOptions.AllowedOrigins", line, StringComparison.Ordinal);
        Assert.Contains("from 127.0.0.1 ", line, StringComparison.Ordinal);
    }

    [Theory, OnOwnHosts]
    public async Task SameOriginNativeClientsAndAllowlistedOriginsAreAccepted(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.AllowedOrigins.Add("https://dashboard.lab.example"));

        Assert.Equal(101, await UpgradeStatusAsync(test.SocketUri, o => o.SetRequestHeader("Origin", $"http://127.0.0.1:{test.Server.Port}")));
        Assert.Equal(101, await UpgradeStatusAsync(test.SocketUri));
        Assert.Equal(101, await UpgradeStatusAsync(test.SocketUri, o => o.SetRequestHeader("Origin", "https://dashboard.lab.example")));
        Assert.Equal(403, await UpgradeStatusAsync(test.SocketUri, o => o.SetRequestHeader("Origin", "https://other.lab.example")));
    }

    [Theory, OnOwnHosts]
    public async Task AWildcardAllowsEveryOrigin(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.AllowedOrigins.Add("*"));
        Assert.Equal(101, await UpgradeStatusAsync(test.SocketUri, o => o.SetRequestHeader("Origin", "http://evil.example")));
    }

    [Theory, OnOwnHosts]
    public async Task ACrossSiteFormPostToAPageIsRefusedButTheOpenFormPathAcceptsIt(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("q", "<form method=post></form>");
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var http = NoRedirectClient(test);

        using var toPage = new HttpRequestMessage(HttpMethod.Post, "vizhtml/q/") { Content = new FormUrlEncodedContent([new("a", "1")]) };
        toPage.Headers.Add("Origin", "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(toPage)).StatusCode);

        using var toFormPath = new HttpRequestMessage(HttpMethod.Post, "vizhtml_form/") { Content = new FormUrlEncodedContent([new("a", "2")]) };
        toFormPath.Headers.Add("Origin", "null");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(toFormPath)).StatusCode);

        Assert.Equal("2", (await forms.WaitForCountAsync(1))[0]["a"]);
        Assert.Single(forms.Items);
    }

    [Theory]
    [OnOwnHosts("attacker.rebind.example")]
    [OnOwnHosts("127.0.0.1.nip.example")]
    [OnOwnHosts("localhost.evil.example")]
    public async Task ARequestForAForeignHostNameIsRefused(TestHost host, string hostName)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("p", "<p>secret state</p>");
        using var http = NoRedirectClient(test);

        using var request = new HttpRequestMessage(HttpMethod.Get, "vizhtml/p/");
        request.Headers.Host = $"{hostName}:{test.Server.Port}";
        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("secret state", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(400, await UpgradeStatusAsync(test.SocketUri, o => o.SetRequestHeader("Host", $"{hostName}:{test.Server.Port}")));
    }

    [Theory]
    [OnOwnHosts("127.0.0.1")]
    [OnOwnHosts("localhost")]
    [OnOwnHosts("[::1]")]
    [OnOwnHosts("192.168.1.20")]
    [OnOwnHosts("panel.lab.example")]
    public async Task AddressesThisMachinesNamesAndAllowedHostsAreServed(TestHost host, string hostName)
    {
        await using var test = await TestServer.StartAsync(host, o => o.AllowedHosts.Add("panel.lab.example"));
        test.Server.RegisterHtml("p", "<p>ok</p>");
        using var http = NoRedirectClient(test);

        using var request = new HttpRequestMessage(HttpMethod.Get, "vizhtml/p/");
        request.Headers.Host = $"{hostName}:{test.Server.Port}";
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);

        using var byMachineName = new HttpRequestMessage(HttpMethod.Get, "vizhtml/p/");
        byMachineName.Headers.Host = $"{Dns.GetHostName()}:{test.Server.Port}";
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(byMachineName)).StatusCode);
    }
}
