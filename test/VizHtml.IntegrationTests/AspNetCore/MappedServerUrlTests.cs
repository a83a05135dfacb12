using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.AspNetCore;

/// <summary>The URLs a mapped server hands out (for a console line, a QR code, an e-mail) lead to where the app serves it.</summary>
public sealed class MappedServerUrlTests
{
    [Fact]
    public async Task GetLocalUrlAndGetServerUrlNameTheMountPathTheAppMappedVizHtmlAt()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddVizHtml(o => o.PublicHost = "127.0.0.1");
        await using var app = builder.Build();
        app.MapVizHtml("/tools");
        await app.StartAsync().WaitAsync(TestServer.Timeout);
        var server = app.Services.GetRequiredService<VizHtmlServer>();
        server.RegisterHtml("panel", "<!DOCTYPE html><title>panel</title>");
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single()).Port;

        Assert.Equal(port, server.Port);
        Assert.Equal($"http://localhost:{port}/tools/panel/", server.GetLocalUrl("panel").ToString());
        Assert.Equal($"http://127.0.0.1:{port}/tools/panel/", server.GetServerUrl("panel").ToString());
        using var http = new HttpClient { Timeout = TestServer.Timeout };
        using var response = await http.GetAsync(server.GetServerUrl("panel"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await app.StopAsync().WaitAsync(TestServer.Timeout);
    }
}
