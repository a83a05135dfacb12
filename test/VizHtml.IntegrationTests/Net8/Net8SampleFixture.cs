using System.Diagnostics;
using System.Text.Json;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Net8;

/// <summary>
/// samples/WebSocketExample.Net8 published self-contained for linux-x64: the .NET 8 runtime comes from NuGet's runtime
/// pack (this machine has only the .NET 10 runtime), and VizHtml is its .NET Standard build on the standalone host, as a
/// Godot, Stride or MonoGame project on .NET 8 gets it. Published once per test class, into artifacts/net8-sample.
/// </summary>
public sealed class Net8SampleFixture : IAsyncLifetime
{
    public string Directory { get; private set; } = string.Empty;

    public string Executable => Path.Combine(Directory, "WebSocketExample.Net8");

    /// <summary>The runtime version the published program carries (from its runtimeconfig.json).</summary>
    public string RuntimeVersion { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var root = RepositoryBuild.Root;
        var configuration = RepositoryBuild.Configuration;
        Directory = Path.Combine(root, "artifacts", "net8-sample");
        var publish = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        foreach (var argument in new[] { "publish", "samples/WebSocketExample.Net8", "-c", configuration, "-r", "linux-x64", "-o", Directory, "--nologo", "-v", "q" })
        {
            publish.ArgumentList.Add(argument);
        }

        var (exitCode, output, errors) = await RepositoryBuild.OneAtATimeAsync(async () =>
        {
            using var process = Process.Start(publish)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
            return (process.ExitCode, await output, await errors);
        });
        Assert.True(exitCode == 0, $"dotnet publish of the .NET 8 sample failed:\n{output}\n{errors}");

        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Directory, "WebSocketExample.Net8.runtimeconfig.json")));
        RuntimeVersion = config.RootElement.GetProperty("runtimeOptions").GetProperty("includedFrameworks")[0].GetProperty("version").GetString()!;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Starts the sample on a free port and returns it with the port from its "Open http://localhost:N/..." line.</summary>
    public Task<ProgramUnderTest> StartAsync()
    {
        var start = new ProcessStartInfo(Executable);
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add("0");
        const string Open = "Open http://localhost:";
        return ProgramUnderTest.StartAsync("The .NET 8 sample", start, line =>
            line.StartsWith(Open, StringComparison.Ordinal) && line.IndexOf('/', Open.Length) is > 0 and var slash &&
            int.TryParse(line.AsSpan(Open.Length, slash - Open.Length), out var port) ? port : null, TestServer.Timeout);
    }
}
