using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Mono;

/// <summary>The .NET Standard build of VizHtml serves a socket under Mono.</summary>
public sealed class MonoSmokeTests
{
    [Fact]
    public async Task TheEchoScenarioUnderMonoAnswersAVersion1Client()
    {
        await using var mono = await MonoProcess.StartAsync("echo");
        using var client = await RawClient.ConnectAsync(new Uri($"ws://127.0.0.1:{mono.Port}/vizhtml/socket"));

        await client.SendAsync("echo", "from .NET 10 to Mono ✓");

        var (name, data) = await client.ReceiveAsync();
        Assert.Equal("echo", name);
        Assert.Equal("from .NET 10 to Mono ✓", data!.GetValue<string>());
    }
}
