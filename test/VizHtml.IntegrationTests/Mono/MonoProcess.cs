using System.Diagnostics;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Mono;

/// <summary>
/// A scenario of test/VizHtml.MonoHost running under Debian's Mono (<c>mono VizHtml.MonoHost.exe &lt;scenario&gt;</c>):
/// VizHtml's .NET Standard build and its standalone host, in the runtime Unity players use. The test reads what the
/// scenario reports (one line each, on standard output) and sends it commands (lines on standard input).
/// </summary>
public sealed class MonoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _errors = [];

    private MonoProcess(Process process) => _process = process;

    /// <summary>Every line the scenario reported after its <c>PORT</c> line.</summary>
    public EventLog<string> Lines { get; } = new();

    /// <summary>The port the scenario's server listens on.</summary>
    public int Port { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>The built host program (same configuration as the tests).</summary>
    public static string ExePath
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
            return Path.Combine(RepositoryRoot, "test", "VizHtml.MonoHost", "bin", configuration, "net48", "VizHtml.MonoHost.exe");
        }
    }

    /// <summary>Starts <paramref name="scenario"/> with <paramref name="settings"/> (<c>name=value</c>) and waits until it listens.</summary>
    public static async Task<MonoProcess> StartAsync(string scenario, params string[] settings)
    {
        var mono = FindMono() ?? throw new InvalidOperationException("Mono is not installed: scripts/test.sh installs it (apt-get install mono-devel).");
        Assert.True(File.Exists(ExePath), $"{ExePath} is missing: build test/VizHtml.MonoHost (the solution build does).");
        var start = new ProcessStartInfo(mono)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--debug");
        start.ArgumentList.Add(ExePath);
        start.ArgumentList.Add(scenario);
        foreach (var setting in settings)
        {
            start.ArgumentList.Add(setting);
        }

        var process = new Process { StartInfo = start };
        var mono2 = new MonoProcess(process);
        process.OutputDataReceived += (_, e) => mono2.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (mono2._errors)
                {
                    mono2._errors.Add(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Mono's first start compiles a lot; allow more than the usual test timeout.
            mono2.Port = await mono2._port.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            await mono2.DisposeAsync();
            throw new TimeoutException($"The Mono scenario {scenario} did not report its port. Its errors:\n{mono2.Errors}");
        }

        return mono2;
    }

    /// <summary>What the process wrote to standard error.</summary>
    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return string.Join('\n', _errors);
            }
        }
    }

    /// <summary>Sends one command line to the scenario.</summary>
    public async Task SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits for a reported line that satisfies <paramref name="match"/> and returns it.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        var lines = await Lines.WaitForAsync(items => items.Any(match), timeout);
        return lines.First(match);
    }

    /// <summary>
    /// Waits until at least <paramref name="count"/> reported lines satisfy <paramref name="match"/> and returns every line
    /// so far; on timeout the exception lists what the scenario reported and wrote to standard error.
    /// </summary>
    public async Task<IReadOnlyList<string>> WaitForLinesAsync(Func<string, bool> match, int count = 1, TimeSpan? timeout = null)
    {
        try
        {
            return await Lines.WaitForAsync(items => items.Count(match) >= count, timeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Fewer than {count} expected line(s) from Mono. It reported: {string.Join(" | ", Lines.Items)}. Its errors: {Errors}", ex);
        }
    }

    /// <summary>Sends <c>exit</c> (the scenario stops its server and returns) and waits for the process to end; returns its exit code.</summary>
    public async Task<int> ExitAsync()
    {
        await SendAsync("exit");
        await _process.WaitForExitAsync().WaitAsync(TestServer.Timeout);
        return _process.ExitCode;
    }

    /// <summary>Ends the process at once, as a crash or a killed program would (no close handshakes).</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().WaitAsync(TestServer.Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await SendAsync("exit");
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _process.WaitForExitAsync(grace.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _port.TrySetException(new InvalidOperationException($"The Mono process ended before it listened. Its errors:\n{Errors}"));
            return;
        }

        if (line.StartsWith("PORT ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(5), out var port))
        {
            _port.TrySetResult(port);
            return;
        }

        Lines.Add(line);
    }

    private static string? FindMono() =>
        new[] { "/usr/bin/mono", "/usr/local/bin/mono" }.FirstOrDefault(File.Exists);

    private static string RepositoryRoot
    {
        get
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
}
