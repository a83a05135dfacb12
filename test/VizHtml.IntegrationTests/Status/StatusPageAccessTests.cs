using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using VizHtml.IntegrationTests.Infrastructure;
using static VizHtml.IntegrationTests.Security.SecurityTestSupport;

namespace VizHtml.IntegrationTests.Status;

/// <summary>Who reaches the status page: loopback only by default, nobody when off, everyone allowed when asked for.</summary>
public sealed class StatusPageAccessTests
{
    [Theory, OnOwnHosts]
    public async Task TheStatusPageIsNotReachableFromANonLoopbackAddressByDefault(TestHost host)
    {
        var lan = NonLoopbackAddress();
        await using var test = await TestServer.StartAsync(host, o => o.BindAddress = IPAddress.Any);
        using var http = new HttpClient { Timeout = TestServer.Timeout };

        // The same server, the same page: from this machine's LAN address it is not there; from loopback it is.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://{lan}:{test.Port}/vizhtml/_status")).StatusCode);
        Assert.Equal(404, await UpgradeStatusAsync(new Uri($"ws://{lan}:{test.Port}/vizhtml/_status/socket")));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{test.Port}/vizhtml/_status")).StatusCode);

        // The rest of the server answers the LAN as ever.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://{lan}:{test.Port}/vizhtml/")).StatusCode);

        // Both refusals (the page, its socket) are listed for whoever watches from this machine.
        var refusals = test.Server.StatusPage!.Log.Refusals.Where(r => r.Rule == "status_page_not_local").ToList();
        Assert.Equal(2, refusals.Count);
        Assert.All(refusals, r => Assert.Equal(lan.ToString(), r.Address));
    }

    [Theory, OnOwnHosts]
    public async Task ARequestAProxyForwardedIsNotLocalEvenFromLoopback(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var http = new HttpClient { Timeout = TestServer.Timeout };
        foreach (var header in new[] { "X-Forwarded-For", "Forwarded" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{test.Port}/vizhtml/_status");
            request.Headers.Add(header, header == "Forwarded" ? "for=203.0.113.7" : "203.0.113.7");
            Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(request)).StatusCode);
        }
    }

    [Theory, OnOwnHosts]
    public async Task EverywhereLetsTheLanOpenIt(TestHost host)
    {
        var lan = NonLoopbackAddress();
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.BindAddress = IPAddress.Any;
            o.StatusPage = VizStatusPageAccess.Everywhere;
        });
        using var http = new HttpClient { Timeout = TestServer.Timeout };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://{lan}:{test.Port}/vizhtml/_status")).StatusCode);
    }

    [Theory, OnEveryHost]
    public async Task OffServesNothingThereAndRecordsNothing(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.StatusPage = VizStatusPageAccess.Off);
        using var http = new HttpClient { Timeout = TestServer.Timeout };
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{test.Port}/vizhtml/_status")).StatusCode);
        Assert.Equal(404, await UpgradeStatusAsync(new Uri($"ws://127.0.0.1:{test.Port}/vizhtml/_status/socket")));
        Assert.Null(test.Server.StatusPage);
    }

    [Fact]
    public void AnUndefinedAccessIsRefusedAtStartNamingTheOption()
    {
        var ex = Assert.Throws<ArgumentException>(() => new VizHtmlServer(new VizHtmlOptions { StatusPage = (VizStatusPageAccess)7 }));
        Assert.Contains("VizHtmlOptions.StatusPage", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APageCannotTakeTheStatusPagesName()
    {
        var server = new VizHtmlServer(new VizHtmlOptions { Port = 0 });
        Assert.Throws<ArgumentException>(() => server.RegisterHtml("_status", "<p>mine</p>"));
    }

    /// <summary>This machine's first IPv4 address that is not loopback (a test machine without one cannot run these tests).</summary>
    internal static IPAddress NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("This machine has no non-loopback IPv4 address to reach the server from.");
}
