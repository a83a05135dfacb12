using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Security;

/// <summary>A page from another origin (another server on another port) tries to use this server's socket in Chromium.</summary>
public sealed class CrossOriginPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string Probe = """
        <!DOCTYPE html><html><body><script>
          window.outcome = new Promise(function (resolve) {
            var ws = new WebSocket(window.target);
            ws.onopen = function () { resolve('open'); };
            ws.onclose = function (e) { resolve('closed ' + e.code); };
          });
        </script></body></html>
        """;

    [Theory, OnOwnHosts]
    public async Task APageFromAnotherOriginCannotOpenTheSocketButOneFromThisServerCan(TestHost host)
    {
        await using var target = await TestServer.StartAsync(host);
        await using var foreign = await TestServer.StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        target.Server.OnConnect(connects.Add);
        target.Server.RegisterHtml("own", Probe);
        foreign.Server.RegisterHtml("evil", Probe);
        await using var context = await browser.NewContextAsync();
        var target_ = target.SocketUri.ToString();

        var evil = await context.NewPageAsync();
        await evil.AddInitScriptAsync($"window.target = '{target_}';");
        await evil.GotoAsync(new Uri(foreign.HttpBase, "vizhtml/evil/").ToString());
        Assert.StartsWith("closed", await evil.EvaluateAsync<string>("window.outcome"), StringComparison.Ordinal);
        Assert.Empty(connects.Items);

        var own = await context.NewPageAsync();
        await own.AddInitScriptAsync($"window.target = '{target_}';");
        await own.GotoAsync(new Uri(target.HttpBase, "vizhtml/own/").ToString());
        Assert.Equal("open", await own.EvaluateAsync<string>("window.outcome"));
        await connects.WaitForCountAsync(1);
    }
}
