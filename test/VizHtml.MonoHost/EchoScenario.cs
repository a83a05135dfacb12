namespace VizHtml.MonoHost;

/// <summary>The conformance suite's server: <c>echo</c> events are sent back; <c>maxMessageBytes=</c> and <c>closeTimeoutMs=</c> set its limits.</summary>
[Scenario("echo")]
internal sealed class EchoScenario : IScenario
{
    public async Task RunAsync(ScenarioHost host)
    {
        var options = host.Options();
        options.MaxMessageBytes = host.Setting("maxMessageBytes", options.MaxMessageBytes);
        await using var server = new VizHtmlServer(options);
        server.OnMessage("echo", e => e.Client.Send("echo", e.Data));
        await server.StartAsync().ConfigureAwait(false);
        host.Report("PORT " + server.Port);
        await host.ReadCommandsAsync(_ => Task.CompletedTask).ConfigureAwait(false);
    }
}
