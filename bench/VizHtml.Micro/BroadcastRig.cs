using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace VizHtml.Micro;

/// <summary>
/// A started <see cref="VizHtmlServer"/> with N real loopback WebSocket clients connected to it from a child process
/// (<see cref="ClientSwarm"/>, pinned to the other core where it can be). Gives the broadcast benchmarks what they need around the measured calls: wait until every
/// client's send queue is empty, so a burst of sends can never reach the queue bound, and fail loudly the moment a client
/// is lost.
/// </summary>
internal sealed class BroadcastRig : IDisposable
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _clients;
    private int _disconnects;
    private string? _lastDisconnect;

    private BroadcastRig(VizHtmlServer server, Process clients, int expected, bool v2)
    {
        Server = server;
        _clients = clients;
        Expected = expected;
        V2 = v2;
    }

    public VizHtmlServer Server { get; }

    public int Expected { get; }

    public bool V2 { get; }

    public string Protocol => V2 ? "v2" : "v1";

    public static BroadcastRig Start(int clients, bool v2)
    {
        var server = new VizHtmlServer(new VizHtmlOptions
        {
            Port = 0,
            BindAddress = IPAddress.Loopback,

            // Every client comes from 127.0.0.1; the default per-address cap (100) would refuse the rest.
            MaxConnectionsPerAddress = clients + 10,
        });
        server.StartAsync().GetAwaiter().GetResult();
        var process = StartClients(server.Port, clients, v2);
        var rig = new BroadcastRig(server, process, clients, v2);
        server.OnDisconnect(e =>
        {
            rig._lastDisconnect = $"{e.Client} disconnected: {e.Reason} {e.CloseStatus} {e.CloseDescription}";
            Interlocked.Increment(ref rig._disconnects);
        });

        try
        {
            var line = ReadLine(process, TimeSpan.FromSeconds(120));
            if (line != $"connected {clients}")
            {
                throw new InvalidOperationException($"client process: expected 'connected {clients}', got '{line}'");
            }

            var deadline = Stopwatch.StartNew();
            while (server.ClientCount < clients)
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException($"only {server.ClientCount} of {clients} clients registered with the server");
                }

                Thread.Sleep(10);
            }

            return rig;
        }
        catch
        {
            rig.Dispose();
            throw;
        }
    }

    /// <summary>Throws when a client was lost (a slow-consumer disconnect, above all) or the count is off.</summary>
    public void EnsureHealthy()
    {
        var disconnects = Volatile.Read(ref _disconnects);
        if (disconnects > 0 || Server.ClientCount != Expected || _clients.HasExited)
        {
            throw new InvalidOperationException(
                $"broadcast rig ({Protocol}, {Expected} clients) is broken: {disconnects} disconnects (last: {_lastDisconnect ?? "none"}), " +
                $"{Server.ClientCount} connected, client process {(_clients.HasExited ? "exited" : "running")}. " +
                "The send rate exceeded what the clients absorb, or a client failed; results would not mean what they say.");
        }
    }

    /// <summary>Waits, without allocating, until every client's send queue is empty: everything sent is on the wire.</summary>
    public void WaitDrained()
    {
        var started = Stopwatch.GetTimestamp();
        var spins = 0;
        while (true)
        {
            // Indexed, not foreach: enumerating the IReadOnlyList would allocate an enumerator on every poll.
            var pending = false;
            var clients = Server.Clients;
            for (var i = 0; i < clients.Count; i++)
            {
                if (clients[i].Session.Connection.QueuedMessages > 0)
                {
                    pending = true;
                    break;
                }
            }

            if (!pending)
            {
                return;
            }

            if (Stopwatch.GetElapsedTime(started) > DrainTimeout)
            {
                EnsureHealthy();
                throw new TimeoutException($"send queues did not drain within {DrainTimeout.TotalSeconds} s ({Protocol}, {Expected} clients)");
            }

            if (++spins < 20)
            {
                Thread.Yield();
            }
            else
            {
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>Envelopes the clients have received so far, in total; throws if any client lost its connection.</summary>
    public long Received()
    {
        _clients.StandardInput.WriteLine("count");
        var line = ReadLine(_clients, TimeSpan.FromSeconds(30));
        var parts = line?.Split(' ') ?? [];
        if (parts.Length != 3 || parts[0] != "count")
        {
            throw new InvalidOperationException($"client process: expected 'count RECEIVED CLOSED', got '{line}'");
        }

        if (parts[2] != "0")
        {
            throw new InvalidOperationException($"{parts[2]} clients lost their connection (see the client process's stderr)");
        }

        return long.Parse(parts[1], CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until the clients have received <paramref name="total"/> envelopes: every send reached every client.</summary>
    public void WaitReceived(long total)
    {
        var deadline = Stopwatch.StartNew();
        long seen;
        while ((seen = Received()) < total)
        {
            if (deadline.Elapsed > DrainTimeout)
            {
                throw new TimeoutException($"clients received {seen} of {total} envelopes within {DrainTimeout.TotalSeconds} s");
            }

            Thread.Sleep(5);
        }

        if (seen > total)
        {
            throw new InvalidOperationException($"clients received {seen} envelopes, more than the {total} sent");
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_clients.HasExited)
            {
                _clients.StandardInput.WriteLine("exit");
                if (!_clients.WaitForExit(TimeSpan.FromSeconds(15)))
                {
                    _clients.Kill();
                }
            }
        }
        catch (IOException)
        {
            // The client process is gone already.
        }

        _clients.Dispose();
        Server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private static Process StartClients(int port, int clients, bool v2)
    {
        var start = SelfProcess.StartInfo(
            SelfProcess.ClientCore, "--clients", port.ToString(CultureInfo.InvariantCulture), clients.ToString(CultureInfo.InvariantCulture), v2 ? "v2" : "v1");
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
    }

    private static string? ReadLine(Process process, TimeSpan timeout)
    {
        var read = process.StandardOutput.ReadLineAsync();
        if (!read.Wait(timeout))
        {
            throw new TimeoutException($"client process said nothing within {timeout.TotalSeconds} s");
        }

        return read.Result;
    }
}
