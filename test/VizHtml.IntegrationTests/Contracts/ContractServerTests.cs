using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Contracts;

/// <summary>
/// A contract on a real server: its TypeScript served at <c>/vizhtml/contract.d.ts</c> exactly as generated, and the typed
/// sends and handlers (<c>SendAll(Lab.Pose, pose)</c>, <c>OnMessage(Lab.Click, ...)</c>) talking to a plain socket client.
/// </summary>
public sealed class ContractServerTests
{
    [Theory]
    [OnEveryHost]
    public async Task TheServedDeclarationsAreTheGeneratedOnesWithAStrongETagAndRevalidation(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.UseContract(typeof(Lab));
        using var http = NewHttpClient(test);

        using var response = await http.GetAsync("vizhtml/contract.d.ts");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/typescript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(VizContract.From(typeof(Lab)).ToTypeScript(), await response.Content.ReadAsStringAsync());
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.True(response.Headers.CacheControl?.NoCache, "The declarations must be revalidated on every load.");

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "vizhtml/contract.d.ts");
        revalidate.Headers.IfNoneMatch.Add(etag);
        using var notModified = await http.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task TheServedDeclarationsFollowTheServersJsonOptions()
    {
        var json = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        await using var test = await TestServer.StartAsync(o => o.JsonSerializerOptions = json);
        test.Server.UseContract(VizContract.From(typeof(Lab)));
        using var http = NewHttpClient(test);

        var served = await http.GetStringAsync("vizhtml/contract.d.ts");

        Assert.Equal(VizContract.From(typeof(Lab)).ToTypeScript(json), served);
        Assert.Contains("click_count: number;", served, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsingAContractSetsTheDeliveryClassItsEventsName()
    {
        await using var test = await TestServer.StartAsync();
        Assert.Equal(VizDelivery.Reliable, test.Server.DeliveryOf("pose"));

        test.Server.UseContract(typeof(Lab));

        Assert.Equal(VizDelivery.Latest, test.Server.DeliveryOf("pose"));
        Assert.Equal(VizDelivery.Reliable, test.Server.DeliveryOf("status"));
    }

    [Fact]
    public async Task WithoutAContractThePathIsNotFoundAndCannotBeAPageName()
    {
        await using var test = await TestServer.StartAsync();
        using var http = NewHttpClient(test);

        using var response = await http.GetAsync("vizhtml/contract.d.ts");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Throws<ArgumentException>(() => test.Server.RegisterHtml("contract.d.ts", "<p>x</p>"));
    }

    [Fact]
    public async Task TheDeclarationsNeedTheAccessKeyLikeEverythingElse()
    {
        await using var test = await TestServer.StartAsync(o => o.AccessKey = "k3y-for-contracts");
        test.Server.UseContract(typeof(Lab));
        using var http = NewHttpClient(test);

        using var refused = await http.GetAsync("vizhtml/contract.d.ts");
        using var admitted = await http.GetAsync("vizhtml/contract.d.ts?key=k3y-for-contracts");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [Theory]
    [OnEveryHost]
    public async Task ATypedHandlerGetsThePagesDataAsTheContractsRecord(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var clicks = new EventLog<(LabClick Click, string Event)>();
        var asyncClicks = new EventLog<LabClick>();
        test.Server.OnMessage(Lab.Click, (click, e) => clicks.Add((click, e.Event)));
        test.Server.OnMessage(Lab.Click, async (click, e) =>
        {
            await Task.Yield();
            asyncClicks.Add(click);
        });
        var (client, _) = await test.ConnectAsync();
        using var _c = client;

        await client.SendAsync("click", new { clickCount = 2, button = "left", note = (string?)null });

        var received = Assert.Single(await clicks.WaitForCountAsync(1));
        Assert.Equal((new LabClick(2, "left", null), "click"), received);
        Assert.Equal(new LabClick(2, "left", null), Assert.Single(await asyncClicks.WaitForCountAsync(1)));
    }

    [Theory]
    [OnEveryHost]
    public async Task TypedSendsReachThePageAsTheServerWritesJson(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var (client, serverSide) = await test.ConnectAsync();
        using var _c = client;

        Assert.Equal(1, test.Server.SendAll(Lab.Pose, new LabPose(1.5, -2, 3)));
        var (name, data) = await client.ReceiveAsync();
        Assert.Equal("pose", name);
        Assert.Equal("""{"x":1.5,"y":-2,"z":3}""", data!.ToJsonString());

        Assert.True(serverSide.Send(Lab.Status, "ready"));
        Assert.Equal(("status", "\"ready\""), await ReceiveTextAsync(client));

        Assert.Equal(1, await test.Server.SendAllAsync(Lab.Status, "running"));
        Assert.Equal(("status", "\"running\""), await ReceiveTextAsync(client));

        Assert.True(await serverSide.SendAsync(Lab.Pose, new LabPose(0, 0, 1)));
        Assert.Equal(("pose", """{"x":0,"y":0,"z":1}"""), await ReceiveTextAsync(client));
    }

    [Fact]
    public async Task ATypedCallTheWrongWayRoundIsRefused()
    {
        await using var test = await TestServer.StartAsync();
        var (client, serverSide) = await test.ConnectAsync();
        using var _c = client;

        var send = Assert.Throws<ArgumentException>(() => test.Server.SendAll(Lab.Click, new LabClick(1, "left", null)));
        Assert.Contains("'click'", send.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => serverSide.Send(Lab.Click, new LabClick(1, "left", null)));
        var handle = Assert.Throws<ArgumentException>(() => test.Server.OnMessage(Lab.Pose, (_, _) => { }));
        Assert.Contains("'pose'", handle.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => test.Server.OnMessage(Lab.Pose, (_, _) => default));

        // Both ways: either side may send it.
        using var _s = test.Server.OnMessage(Lab.Status, (_, _) => { });
        Assert.Equal(1, test.Server.SendAll(Lab.Status, "x"));
    }

    [Theory]
    [OnOwnHosts]
    public async Task TypedRequestsGoBothWaysThroughTheirDescriptors(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        using var _a = test.Server.OnRequest(Lab.Measure, async (pose, e) =>
        {
            await Task.Yield();
            return pose.X + pose.Y + pose.Z;
        });
        await using var client = new VizHtmlClient(test.HttpBase);
        using var _b = client.OnRequest<LabClick, bool>(Lab.Confirm.Name, (click, e) => click.ClickCount > 1 && click.Button == "left");
        await client.StartAsync().WaitAsync(TestServer.Timeout);
        var page = (await connects.WaitForCountAsync(1))[0].Client;

        Assert.Equal(6.0, await client.RequestAsync<double>(Lab.Measure.Name, new LabPose(1, 2, 3)).WaitAsync(TestServer.Timeout));
        Assert.True(await page.RequestAsync(Lab.Confirm, new LabClick(2, "left", null)).WaitAsync(TestServer.Timeout));
        Assert.False(await page.RequestAsync(Lab.Confirm, new LabClick(1, "left", null)).WaitAsync(TestServer.Timeout));

        // Each the right way round only: the server is never asked a page's request, nor asks the page the server's.
        Assert.Throws<ArgumentException>(() => test.Server.OnRequest(Lab.Confirm, (click, e) => true));
        await Assert.ThrowsAsync<ArgumentException>(() => page.RequestAsync(Lab.Measure, new LabPose(0, 0, 0)));
    }

    private static async Task<(string Event, string Data)> ReceiveTextAsync(RawClient client)
    {
        var (name, data) = await client.ReceiveAsync();
        return (name, data!.ToJsonString());
    }

    private static HttpClient NewHttpClient(TestServer server) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = server.HttpBase, Timeout = TestServer.Timeout };
}

public sealed record LabPose(double X, double Y, double Z);

public sealed record LabClick(int ClickCount, string Button, string? Note);

public static class Lab
{
    public static readonly VizEvent<LabPose> Pose = VizEvent.ToPage<LabPose>("pose", VizDelivery.Latest);
    public static readonly VizEvent<LabClick> Click = VizEvent.ToServer<LabClick>("click");
    public static readonly VizEvent<string> Status = VizEvent.Both<string>("status");
    public static readonly VizCall<LabClick, bool> Confirm = VizCall.ToPage<LabClick, bool>("confirm");
    public static readonly VizCall<LabPose, double> Measure = VizCall.ToServer<LabPose, double>("measure");
}
