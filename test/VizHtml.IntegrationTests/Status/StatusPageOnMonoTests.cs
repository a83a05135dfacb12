using System.Net;
using VizHtml.IntegrationTests.Infrastructure;
using VizHtml.IntegrationTests.Mono;

namespace VizHtml.IntegrationTests.Status;

/// <summary>The .NET Standard build under Mono (as in Unity) serves the status page and its socket too.</summary>
public sealed class StatusPageOnMonoTests
{
    [Fact]
    public async Task TheStandaloneServerUnderMonoServesTheStatusPageAndItsSnapshots()
    {
        await using var mono = await MonoProcess.StartAsync("echo");
        using var http = new HttpClient { Timeout = TestServer.Timeout };
        var page = await http.GetAsync(new Uri($"http://127.0.0.1:{mono.Port}/vizhtml/_status"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("/vizhtml/vizhtml.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var client = await RawClient.ConnectAsync(new Uri($"ws://127.0.0.1:{mono.Port}/vizhtml/socket"));
        await client.SendAsync("echo", 1);
        Assert.Equal("echo", (await client.ReceiveAsync()).Event);

        using var status = await RawClient.ConnectAsync(new Uri($"ws://127.0.0.1:{mono.Port}/vizhtml/_status/socket"));
        var (name, data) = await status.ReceiveAsync();
        Assert.Equal("status", name);
        var row = Assert.Single(data!["clients"]!.AsArray())!;
        Assert.Equal("127.0.0.1", row["address"]!.GetValue<string>());
        Assert.Equal(1, row["eventsIn"]!.GetValue<long>());
        Assert.Equal(1, row["eventsOut"]!.GetValue<long>());
        Assert.Equal("standalone", data["server"]!["host"]!.GetValue<string>());
    }
}
