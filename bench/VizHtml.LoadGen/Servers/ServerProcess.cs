using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace VizHtml.LoadGen.Servers;

/// <summary>
/// One server under test as a child process pinned to core 0 (<c>taskset -c 0</c>), driven by its stdin/stdout line
/// protocol: one command line in, one answer line out. Its stderr goes to a log file.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private static int s_nextPort = 21000 + (Environment.ProcessId % 1000 * 10);

    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly StreamWriter _log;

    private ServerProcess(ServerSpec spec, Process process, StreamWriter log, int port)
    {
        Spec = spec;
        _process = process;
        _log = log;
        Port = port;
        var reader = new Thread(ReadStdout) { IsBackground = true, Name = $"{spec.Name} stdout" };
        reader.Start();
    }

    public ServerSpec Spec { get; }

    public int Port { get; }

    /// <summary>The server's process and its descendants, fixed once it listens.</summary>
    public IReadOnlyList<int> Pids { get; private set; } = [];

    public static ServerProcess Start(ServerSpec spec, string repoRoot, string logDirectory)
    {
        var port = FreePort();
        Directory.CreateDirectory(logDirectory);
        var log = new StreamWriter(Path.Combine(logDirectory, $"{spec.Name}.log"), append: true) { AutoFlush = true };
        log.WriteLine($"--- {DateTime.UtcNow:O} start on port {port}");
        var command = spec.Command.Contains('/', StringComparison.Ordinal) ? Path.Combine(repoRoot, spec.Command) : spec.Command;
        var info = new ProcessStartInfo("taskset")
        {
            WorkingDirectory = repoRoot,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("0");
        info.ArgumentList.Add(command);
        foreach (var argument in spec.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        foreach (var (name, value) in spec.Environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {spec.Name}");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                try
                {
                    lock (log)
                    {
                        log.WriteLine(e.Data);
                    }
                }
                catch (ObjectDisposedException)
                {
                    // The last lines of a server that is being disposed.
                }
            }
        };
        process.BeginErrorReadLine();
        var server = new ServerProcess(spec, process, log, port);
        try
        {
            var line = server.ReadLine(TimeSpan.FromSeconds(60), "listening");
            if (line != $"listening {port}")
            {
                throw new InvalidOperationException($"{spec.Name}: expected 'listening {port}', got '{line}'");
            }

            server.Pids = ProcessStats.Tree(process.Id);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Writes one command line; the answer is read with <see cref="TryReadLine"/> or <see cref="ReadLine"/>.</summary>
    public void Send(string command)
    {
        Log($"> {command}");
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
    }

    /// <summary>The next answer starting with <paramref name="prefix"/>, if one has arrived; other lines are logged and skipped.</summary>
    public bool TryReadLine(string prefix, out string line)
    {
        while (_lines.TryTake(out var next))
        {
            if (next.StartsWith(prefix, StringComparison.Ordinal))
            {
                line = next;
                return true;
            }

            Log($"(ignored stdout) {next}");
        }

        line = string.Empty;
        return false;
    }

    /// <summary>Blocks for the next answer starting with <paramref name="prefix"/>.</summary>
    public string ReadLine(TimeSpan timeout, string prefix)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var left = TimeSpan.FromSeconds((deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            if (left <= TimeSpan.Zero || !_lines.TryTake(out var line, left))
            {
                throw new TimeoutException($"{Spec.Name}: no '{prefix}' line within {timeout.TotalSeconds:0} s{(_process.HasExited ? $" (exited with {_process.ExitCode})" : string.Empty)}");
            }

            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }

            Log($"(ignored stdout) {line}");
        }
    }

    public bool HasExited => _process.HasExited;

    public CpuSample ReadCpu() => ProcessStats.ReadCpu(Pids);

    public long ReadRssBytes() => ProcessStats.ReadRssBytes(Pids);

    /// <summary>Asks the server to exit, then makes sure it did.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Send("exit");
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    Log("did not exit within 10 s; killed");
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(TimeSpan.FromSeconds(5));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            // stdin already closed: the process is gone.
        }

        lock (_log)
        {
            _log.WriteLine($"--- exit code {(_process.HasExited ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "?")}");
            _process.Dispose();
            _log.Dispose();
        }
    }

    private void Log(string line)
    {
        lock (_log)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private void ReadStdout()
    {
        try
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                _lines.Add(line.Trim());
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    /// <summary>A port below the ephemeral range (so client sockets never take it) that nothing listens on now.</summary>
    private static int FreePort()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Interlocked.Increment(ref s_nextPort);
            if (port > 32000)
            {
                s_nextPort = port = 20000;
            }

            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port below 32000");
    }
}
