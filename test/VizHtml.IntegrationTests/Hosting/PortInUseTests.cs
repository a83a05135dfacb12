using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Hosting;

/// <summary>A port another program listens on: a documented exception from the library, one line and an exit code from a sample.</summary>
public sealed class PortInUseTests
{
    [Fact]
    public async Task StartingOnAPortHeldByAnotherListenerThrowsPortInUseNamingThePort()
    {
        using var holder = HoldAPort();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        await using var server = new VizHtmlServer(new VizHtmlOptions { Port = port });

        var thrown = await Assert.ThrowsAsync<VizHtmlPortInUseException>(() => server.StartAsync().WaitAsync(TestServer.Timeout));

        Assert.Equal(port, thrown.Port);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), thrown.Message, StringComparison.Ordinal);
        Assert.Contains("--port", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(VizHtmlOptions.PortEnvironmentVariable, thrown.Message, StringComparison.Ordinal);
        Assert.False(server.IsRunning);
    }

    [Fact]
    public async Task TheSampleOnATakenPortPrintsOneLineNamingThePortAndExitsWithOne()
    {
        using var holder = HoldAPort();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var sample = Path.Combine(AppContext.BaseDirectory, "WebSocketExample.dll");

        // The test host runs under the dotnet executable; the sample runs under the same one.
        var dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(dotnet, [sample, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TestServer.Timeout * 2);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var lines = ((await output) + (await error)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(1, process.ExitCode);
        var line = Assert.Single(lines);
        Assert.Contains($"Port {port} ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", line, StringComparison.Ordinal);
    }

    /// <summary>A listener on every address, as another program holding the port would be.</summary>
    private static TcpListener HoldAPort()
    {
        var listener = new TcpListener(IPAddress.IPv6Any, 0);
        listener.Server.DualMode = true;
        listener.Start();
        return listener;
    }
}
