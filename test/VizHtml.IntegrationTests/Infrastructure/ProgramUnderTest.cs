using System.Diagnostics;

namespace VizHtml.IntegrationTests.Infrastructure;

/// <summary>
/// A program the tests run as a process of its own (a Mono scenario, the published .NET 8 sample, the README's program
/// installed from the package): its output lines as they come, the port it reports, commands on its standard input, and
/// an end that is graceful when the program has a command for it and a kill otherwise.
/// </summary>
public sealed class ProgramUnderTest : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Func<string, int?> _portOf;
    private readonly bool _reportPortLine;
    private readonly string? _exitCommand;
    private readonly bool _errorsInLines;
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _errors = [];

    private ProgramUnderTest(Process process, Func<string, int?> portOf, bool reportPortLine, string? exitCommand, bool errorsInLines)
    {
        _errorsInLines = errorsInLines;
        _process = process;
        _portOf = portOf;
        _reportPortLine = reportPortLine;
        _exitCommand = exitCommand;
    }

    /// <summary>Every line the program wrote on standard output (the port line only when asked), and standard error's as <c>stderr: …</c> when asked.</summary>
    public EventLog<string> Lines { get; } = new();

    /// <summary>The port the program said it listens on.</summary>
    public int Port { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>What the program wrote to standard error.</summary>
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

    /// <summary>
    /// Starts <paramref name="start"/> (its output and input redirected here) and waits up to <paramref name="timeout"/>
    /// for the line <paramref name="portOf"/> finds a port in. On a timeout or an early exit the program is ended and the
    /// exception says what it wrote.
    /// </summary>
    /// <param name="name">What the program is, for messages.</param>
    /// <param name="reportPortLine">Whether the port line is also one of <see cref="Lines"/>.</param>
    /// <param name="exitCommand">The command line that makes the program stop by itself; <see langword="null"/>: it is killed.</param>
    /// <param name="errorsInLines">Whether standard error's lines are also in <see cref="Lines"/> (always in <see cref="Errors"/>).</param>
    public static async Task<ProgramUnderTest> StartAsync(
        string name, ProcessStartInfo start, Func<string, int?> portOf, TimeSpan timeout, bool reportPortLine = true, string? exitCommand = null, bool errorsInLines = true)
    {
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = new Process { StartInfo = start };
        var program = new ProgramUnderTest(process, portOf, reportPortLine, exitCommand, errorsInLines);
        process.OutputDataReceived += (_, e) => program.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => program.OnError(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            program.Port = await program._port.Task.WaitAsync(timeout);
            return program;
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            await program.KillAsync();
            program._process.Dispose();
            var reason = ex is TimeoutException ? $"did not report its port within {timeout.TotalSeconds:0} s" : "ended before it reported its port";
            throw new TimeoutException($"{name} {reason}. It printed:\n{string.Join('\n', program.Lines.Items)}\nIts errors:\n{program.Errors}", ex);
        }
    }

    /// <summary>Sends one command line to the program.</summary>
    public async Task SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>
    /// Waits until at least <paramref name="count"/> lines satisfy <paramref name="match"/> and returns every line so far;
    /// on a timeout the exception lists what the program printed and wrote to standard error.
    /// </summary>
    public async Task<IReadOnlyList<string>> WaitForLinesAsync(Func<string, bool> match, int count = 1, TimeSpan? timeout = null)
    {
        try
        {
            return await Lines.WaitForAsync(items => items.Count(match) >= count, timeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Fewer than {count} expected line(s). The program printed: {string.Join(" | ", Lines.Items)}. Its errors: {Errors}", ex);
        }
    }

    /// <summary>Waits for a line that satisfies <paramref name="match"/> and returns it.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null) =>
        (await WaitForLinesAsync(match, 1, timeout)).First(match);

    /// <summary>Sends the exit command and waits for the program to end by itself; returns its exit code.</summary>
    public async Task<int> ExitAsync()
    {
        await SendAsync(_exitCommand ?? throw new InvalidOperationException("This program has no exit command; dispose it to kill it."));
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

    /// <summary>Asks the program to exit (when it has a command for it) and gives it 5 s; kills it otherwise.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_exitCommand is not null && !_process.HasExited)
            {
                await SendAsync(_exitCommand);
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _process.WaitForExitAsync(grace.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
        }

        await KillAsync();
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _port.TrySetException(new InvalidOperationException("the program's standard output ended"));
            return;
        }

        if (!_port.Task.IsCompleted && _portOf(line) is { } port)
        {
            _port.TrySetResult(port);
            if (!_reportPortLine)
            {
                return;
            }
        }

        Lines.Add(line);
    }

    private void OnError(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_errors)
        {
            _errors.Add(line);
        }

        if (_errorsInLines)
        {
            Lines.Add("stderr: " + line);
        }
    }
}
