using System.Globalization;

namespace VizHtml.MonoHost;

/// <summary>
/// The hostile-input HTTP cases' server (test/VizHtml.IntegrationTests/Hosting/PageServer.cs registers the same in
/// process): pages <c>p</c>, <c>a</c>, <c>b</c> and the form page <c>survey</c>; it reports <c>early &lt;data&gt;</c> for
/// each <c>early</c> message and <c>form</c> for each form submitted. <c>handshakeTimeoutMs=</c> sets the HTTP deadlines
/// (a fake clock cannot reach another process, so the tests use real, short ones).
/// </summary>
[Scenario("pages")]
internal sealed class PagesScenario : IScenario
{
    public async Task RunAsync(ScenarioHost host)
    {
        var options = host.Options();
        options.HandshakeTimeout = TimeSpan.FromMilliseconds(host.Setting("handshakeTimeoutMs", (int)options.HandshakeTimeout.TotalMilliseconds));
        await using var server = new VizHtmlServer(options);
        server.RegisterHtml("p", "<p>one</p>");
        server.RegisterHtml("a", "<p>first</p>");
        server.RegisterHtml("b", "<p>second</p>");
        server.RegisterHtml("survey", "<form method=post></form>");
        server.OnMessage("early", e => host.Report("early " + e.Data.ToJson()));
        server.OnFormSubmit(_ => host.Report("form"));
        await server.StartAsync().ConfigureAwait(false);
        host.Report("PORT " + server.Port.ToString(CultureInfo.InvariantCulture));
        await host.ReadCommandsAsync(_ => Task.CompletedTask).ConfigureAwait(false);
    }
}
