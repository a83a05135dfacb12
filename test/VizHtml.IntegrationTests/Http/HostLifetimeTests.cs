using VizHtml.Hosting;
using VizHtml.Hosting.Kestrel;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

public sealed class HostLifetimeTests
{
    [Fact]
    public async Task TheEmbeddedServerLeavesCtrlCAndSigtermToTheHostProgram()
    {
        // The console lifetime a web host gets by default would stop VizHtml on Ctrl+C or SIGTERM and leave the program
        // running without its UI; the embedded host uses a lifetime that registers no signal handlers.
        await using var test = await TestServer.StartAsync();
        Assert.IsType<EmbeddedLifetime>(test.Server.Host!.Lifetime);
    }
}
