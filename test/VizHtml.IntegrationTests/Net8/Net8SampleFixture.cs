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
        var root = RepositoryRoot();
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
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

    /// <summary>Starts the sample on a free port and returns it with the port it prints.</summary>
    public async Task<SampleProcess> StartAsync() => await SampleProcess.StartAsync(Executable);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VizHtml.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (VizHtml.slnx) was not found above the test binaries.");
    }
}

/// <summary>The published sample running: its output lines, and the port from its "Open http://localhost:N/..." line.</summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SampleProcess(Process process) => _process = process;

    public EventLog<string> Lines { get; } = new();

    public int Port { get; private set; }

    public static async Task<SampleProcess> StartAsync(string executable)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add("0");
        var process = new Process { StartInfo = start };
        var sample = new SampleProcess(process);
        process.OutputDataReceived += (_, e) => sample.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => sample.OnLine(e.Data is null ? null : "stderr: " + e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        sample.Port = await sample._port.Task.WaitAsync(TestServer.Timeout);
        return sample;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TestServer.Timeout);
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        const string Open = "Open http://localhost:";
        if (line.StartsWith(Open, StringComparison.Ordinal) && int.TryParse(line.AsSpan(Open.Length, line.IndexOf('/', Open.Length) - Open.Length), out var port))
        {
            _port.TrySetResult(port);
        }

        Lines.Add(line);
    }
}
