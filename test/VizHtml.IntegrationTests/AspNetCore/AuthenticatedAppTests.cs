using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.BrowserResume;
using VizHtml.IntegrationTests.Faults;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.AspNetCore;

/// <summary>
/// VizHtml mapped into an ASP.NET Core app behind the app's authentication (<see cref="LabApp"/>): who may connect, who
/// the server sees, and the app's own endpoint and background service working beside it.
/// </summary>
public sealed class AuthenticatedAppTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task ASocketUpgradeWithoutAUserGets401AndOneFromAUserThePolicyRefusesGets403()
    {
        await using var lab = await LabApp.StartAsync();
        var connects = new EventLog<VizConnectEvent>();
        lab.Server.OnConnect(connects.Add);

        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedUpgradeAsync(lab.SocketUri, key: null));
        Assert.Equal(HttpStatusCode.Forbidden, await RefusedUpgradeAsync(lab.SocketUri, LabApp.BobKey));
        using var anonymous = lab.HttpClient();
        using var page = await anonymous.GetAsync(new Uri("vizhtml/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);

        // The same upgrade with an operator's key goes through: the refusals were the app's policy.
        using var alice = await ConnectAsync(lab, LabApp.AliceKey);
        var connect = Assert.Single(await connects.WaitForCountAsync(1));
        Assert.Equal("alice", connect.Client.User?.Identity?.Name);
        Assert.Equal(1, lab.Server.ClientCount);
        Assert.Single(connects.Items);
    }

    [Fact]
    public async Task AnOperatorsPageConnectsSendsAndReceivesAndTheServerSeesItsUser()
    {
        await using var lab = await LabApp.StartAsync();
        var hellos = RecorderPage.Register(lab.Server);
        lab.Server.OnMessage("whoami", e => e.Client.Send("identity", e.Client.User?.Identity?.Name));
        await using var context = await SignedInContextAsync(LabApp.AliceKey);

        var (page, client) = await RecorderPage.OpenAsync(context, lab.HttpBase, hellos, "alice's page");

        Assert.Equal("alice", client.User?.Identity?.Name);
        Assert.True(client.User!.IsInRole("operator"));
        Assert.True(await page.EvaluateAsync<bool>("() => socket.send('whoami')").WaitAsync(TestServer.Timeout));
        await RecorderPage.WaitForReceivedAsync(page, "identity", 1);
        Assert.Equal("""[{"event":"identity","data":"alice"}]""", await RecorderPage.ReceivedJsonAsync(page));
    }

    [Fact]
    public async Task TheAppsOwnEndpointAnswersBesideVizHtmlAndPathsVizHtmlDoesNotOwnStayTheApps()
    {
        await using var lab = await LabApp.StartAsync();
        using var anonymous = lab.HttpClient();
        using var alice = lab.HttpClient(LabApp.AliceKey);
        using var socket = await ConnectAsync(lab, LabApp.AliceKey);

        Assert.Equal("pong anonymous", await anonymous.GetStringAsync(new Uri("api/ping", UriKind.Relative)));
        Assert.Equal("pong alice", await alice.GetStringAsync(new Uri("api/ping", UriKind.Relative)));
        using var script = await alice.GetAsync(new Uri("vizhtml/vizhtml.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);

        // Not VizHtml's "Not found. VizHtml serves pages under ..." text: the app's own empty 404.
        foreach (var path in new[] { "api/missing", "vizhtmlx/", "vizhtml_formx" })
        {
            using var missing = await alice.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Empty(await missing.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task TheBackgroundServicesBroadcastReachesThePage()
    {
        await using var lab = await LabApp.StartAsync();
        var hellos = RecorderPage.Register(lab.Server);
        await using var context = await SignedInContextAsync(LabApp.AliceKey);
        var (page, _) = await RecorderPage.OpenAsync(context, lab.HttpBase, hellos, "watcher");

        Assert.Equal(1, await lab.Ticks.TickAsync());
        Assert.Equal(1, await lab.Ticks.TickAsync());

        await RecorderPage.WaitForReceivedAsync(page, "tick", 2);
        Assert.Equal("""[{"event":"tick","data":1},{"event":"tick","data":2}]""", await RecorderPage.ReceivedJsonAsync(page));
    }

    [Fact]
    public async Task APageCutOffResumesThroughTheAppsKestrelWithTheTicksItMissed()
    {
        await using var lab = await LabApp.StartAsync();
        lab.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        lab.Server.OnConnect(connects.Add);
        lab.Server.OnDisconnect(disconnects.Add);
        await using var proxy = new FaultProxy(lab.Port);
        await using var context = await SignedInContextAsync(LabApp.AliceKey);
        var page = await ResumePage.OpenAsync(context, proxy.HttpBase, ResumePage.Reconnecting);
        var client = Assert.Single(await connects.WaitForCountAsync(1)).Client;
        Assert.Equal(1, await lab.Ticks.TickAsync());
        await ResumePage.WaitAsync(page, "window.received.length >= 1");

        proxy.GoDown();
        var lost = Assert.Single(await disconnects.WaitForCountAsync(1));
        Assert.True(lost.CanResume);
        await ResumePage.WaitAsync(page, "!socket.isConnected()");

        // Broadcast while the page is away: no connected client gets them, the session keeps them.
        for (var i = 2; i <= 4; i++)
        {
            Assert.Equal(0, await lab.Ticks.TickAsync());
        }

        proxy.GoUp();
        var back = (await connects.WaitForCountAsync(2))[1];
        await ResumePage.WaitAsync(page, "window.received.length >= 4");

        Assert.True(back.Resumed && back.Recovered, $"resumed {back.Resumed}, recovered {back.Recovered}");
        Assert.Same(client, back.Client);
        Assert.Equal("alice", back.Client.User?.Identity?.Name);
        Assert.Equal(new[] { 1, 2, 3, 4 }, await ResumePage.ReceivedNumbersAsync(page, "tick"));
        Assert.Equal(["open", "close", "open"], await ResumePage.ConnectionEventsAsync(page));
    }

    [Fact]
    public async Task UnderAPathBaseThePagesTheScriptAndTheSocketLiveBelowLabVizhtml()
    {
        await using var lab = await LabApp.StartAsync(pathBase: "/lab");
        var hellos = RecorderPage.Register(lab.Server);
        using var alice = lab.HttpClient(LabApp.AliceKey);
        var prefix = $"http://127.0.0.1:{lab.Port}/lab/vizhtml/";

        var script = await alice.GetStringAsync(new Uri($"{prefix}vizhtml.js"));
        Assert.Matches("""const MOUNT = ["']/lab/vizhtml["'];""", script);
        using var bare = await alice.GetAsync(new Uri($"{prefix}{RecorderPage.Name}"));
        Assert.Equal(HttpStatusCode.Found, bare.StatusCode);
        Assert.Equal($"/lab/vizhtml/{RecorderPage.Name}/", bare.Headers.Location?.OriginalString);
        var index = await alice.GetStringAsync(new Uri(prefix));
        Assert.Contains($"href=\"{prefix}{RecorderPage.Name}/\"", index, StringComparison.Ordinal);

        await using var context = await SignedInContextAsync(LabApp.AliceKey);
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var socket = await page.RunAndWaitForWebSocketAsync(() => page.GotoAsync($"{lab.HttpBase}vizhtml/{RecorderPage.Name}/?who=lab"));
        var client = Assert.Single(await hellos.WaitForCountAsync(1)).Client;

        Assert.Equal($"{prefix}{RecorderPage.Name}/?who=lab", page.Url);
        Assert.Equal($"ws://127.0.0.1:{lab.Port}/lab/vizhtml/socket?v=2", socket.Url);
        Assert.True(client.Send("news", "through /lab"));
        await RecorderPage.WaitForReceivedAsync(page, "news", 1);
        Assert.Equal("alice", client.User?.Identity?.Name);
    }

    [Fact]
    public async Task AResumeTokenPresentedByAnotherUserStartsAFreshSessionForThatUserAndStillResumesForItsOwner()
    {
        await using var lab = await LabApp.StartAsync();
        var connects = new EventLog<VizConnectEvent>();
        lab.Server.OnConnect(connects.Add);
        using var alice = await ConnectAsync(lab, LabApp.AliceKey, version2: true);
        var token = (await HelloAsync(alice, token: null))["token"]!.GetValue<string>();
        var aliceSide = Assert.Single(await connects.WaitForCountAsync(1)).Client;
        aliceSide.Session.Connection.Abort();
        await TestServer.WaitUntilAsync(() => lab.Server.AwayCount == 1);

        using var carol = await ConnectAsync(lab, LabApp.CarolKey, version2: true);
        var welcome = await HelloAsync(carol, token);

        var carolSide = (await connects.WaitForCountAsync(2))[1];
        Assert.False(welcome["resumed"]!.GetValue<bool>(), "carol took over alice's session with alice's token");
        Assert.NotSame(aliceSide, carolSide.Client);
        Assert.Equal("carol", carolSide.Client.User?.Identity?.Name);

        // The refused attempt spent nothing of alice's: her own token still resumes her session.
        using var aliceAgain = await ConnectAsync(lab, LabApp.AliceKey, version2: true);
        Assert.True((await HelloAsync(aliceAgain, token))["resumed"]!.GetValue<bool>());
        Assert.Same(aliceSide, (await connects.WaitForCountAsync(3))[2].Client);
    }

    private async Task<IBrowserContext> SignedInContextAsync(string key)
    {
        var context = await browser.NewContextAsync();

        // Cookies belong to a host, not a port: the page gets it through a fault proxy on another port too.
        await context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = LabApp.KeyCookie, Value = key, Domain = "127.0.0.1", Path = "/" }]).WaitAsync(TestServer.Timeout);
        return context;
    }

    private static Task<RawClient> ConnectAsync(LabApp lab, string key, bool version2 = false) =>
        RawClient.ConnectAsync(version2 ? new Uri(lab.SocketUri + "?v=2") : lab.SocketUri, o => o.SetRequestHeader(LabApp.KeyHeader, key));

    private static async Task<HttpStatusCode> RefusedUpgradeAsync(Uri uri, string? key)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (key is not null)
        {
            socket.Options.SetRequestHeader(LabApp.KeyHeader, key);
        }

        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, timeout.Token));
        return socket.HttpStatusCode;
    }

    private static async Task<JsonObject> HelloAsync(RawClient client, string? token)
    {
        await client.SendTextAsync(new JsonObject { ["event"] = "$hello", ["data"] = new JsonObject { ["v"] = 2, ["token"] = token, ["lastSeq"] = 0 } }.ToJsonString());
        var (name, data) = await client.ReceiveAsync();
        Assert.Equal("$welcome", name);
        return (JsonObject)data!;
    }
}
