using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Security;

/// <summary>
/// A server process with few file descriptors (<c>ulimit -n 512</c>: the runtime and Kestrel hold about 150 once started)
/// under a flood of idle TCP connections, as in issue 10. Linux only: the limit is set with the shell's ulimit.
/// </summary>
/// <remarks>
/// Before VizHtml kept a budget, this flood ended the process (3 runs of 3): Kestrel's accept loop retried EMFILE at once
/// (22,000 to 52,000 times), the thread pool added a worker, and starting it failed for want of descriptors with an
/// OutOfMemoryException nobody could catch. Meanwhile new connections went unanswered.
/// </remarks>
public sealed partial class FileDescriptorLimitTests
{
    private const int FileLimit = 512;
    private const int FloodConnections = 1000;

    /// <summary>How long a new connection may wait for an answer (a response, or being closed) while the flood is held.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task AnIdleTcpFloodPastTheFileLimitIsRefusedPromptlyAndTheServerLivesToServeAgain()
    {
        Assert.True(OperatingSystem.IsLinux(), "This test sets the file limit with the shell's ulimit.");
        await using var sample = await LimitedServer.StartAsync(FileLimit);
        Assert.Equal(200, await GetStatusAsync(sample.Port, TestServer.Timeout));

        var flood = new List<Socket>();
        try
        {
            // Connections that never send a byte, opened ten at a time; those the server closes or never takes count too.
            for (var i = 0; i < FloodConnections; i += 10)
            {
                flood.AddRange(await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => ConnectIdleAsync(sample.Port))));
            }

            // While the flood is held, a new connection is answered at once: served, or closed by a server that is full.
            for (var probe = 0; probe < 3; probe++)
            {
                var watch = Stopwatch.StartNew();
                var status = await GetStatusAsync(sample.Port, Prompt + Prompt);
                Assert.True(watch.Elapsed < Prompt, $"probe {probe}: no answer for {watch.Elapsed.TotalSeconds:F1} s (status {status})\n{sample.Output}");
                Assert.False(sample.HasExited, $"The server exited during the flood:\n{sample.Output}");
            }
        }
        finally
        {
            foreach (var socket in flood)
            {
                socket.Dispose();
            }
        }

        // Once the flood is gone, pages are served again by the same process.
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        var served = 0;
        while (served != 200 && DateTime.UtcNow < deadline && !sample.HasExited)
        {
            served = await GetStatusAsync(sample.Port, Prompt);
        }

        Assert.False(sample.HasExited, $"The server exited after the flood:\n{sample.Output}");
        Assert.True(served == 200, $"No page was served again within {TestServer.Timeout.TotalSeconds} s of the flood's end (last status {served}).\n{sample.Output}");
    }

    /// <summary>A connection that sends nothing; connecting gives up after a second (a full backlog), and the socket is kept anyway.</summary>
    private static async Task<Socket> ConnectIdleAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            // Kept and disposed with the others: what matters is what the server does with the rest.
        }

        return socket;
    }

    /// <summary>The status of <c>GET /vizhtml/vizhtml.js</c>; 0 when the server closed the connection without answering or did not answer in time.</summary>
    private static async Task<int> GetStatusAsync(int port, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port, cancel.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /vizhtml/vizhtml.js HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"), cancel.Token);
            var buffer = new byte[64];
            var length = 0;
            while (length < 12)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(length), cancel.Token);
                if (read == 0)
                {
                    return 0;
                }

                length += read;
            }

            return int.TryParse(Encoding.ASCII.GetString(buffer, 9, 3), out var status) ? status : 0;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return 0;
        }
    }

    /// <summary>The WebSocket sample in a process of its own whose file limit is lowered first; killed when disposed.</summary>
    private sealed partial class LimitedServer : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _output = new();

        private LimitedServer(Process process) => _process = process;

        public int Port { get; private set; }

        public bool HasExited => _process.HasExited;

        /// <summary>The process's last lines, for failure messages.</summary>
        public string Output => string.Join("\n", _output.TakeLast(40));

        public static async Task<LimitedServer> StartAsync(int fileLimit)
        {
            var sample = Path.Combine(AppContext.BaseDirectory, "WebSocketExample.dll");

            // The test host runs under the dotnet executable; the sample runs under the same one.
            var dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath : "dotnet";
            var start = new ProcessStartInfo("/bin/sh", ["-c", $"ulimit -n {fileLimit} && exec \"{dotnet}\" \"{sample}\" --port 0"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = AppContext.BaseDirectory,
            };
            var server = new LimitedServer(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"));
            var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            void Collect(string? line)
            {
                if (line is null)
                {
                    return;
                }

                server._output.Enqueue(line);
                if (ListeningUrl().Match(line) is { Success: true } match)
                {
                    ready.TrySetResult(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            server._process.OutputDataReceived += (_, e) => Collect(e.Data);
            server._process.ErrorDataReceived += (_, e) => Collect(e.Data);
            server._process.BeginOutputReadLine();
            server._process.BeginErrorReadLine();
            try
            {
                server.Port = await ready.Task.WaitAsync(TestServer.Timeout * 2);
            }
            catch (TimeoutException)
            {
                await server.DisposeAsync();
                throw new TimeoutException($"The sample did not say where it listens:\n{server.Output}");
            }

            return server;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TestServer.Timeout);
            _process.Dispose();
        }

        [GeneratedRegex(@"^Open http://localhost:(\d+)/")]
        private static partial Regex ListeningUrl();
    }
}
