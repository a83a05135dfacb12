using System.Net;
using System.Net.Sockets;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Faults;

/// <summary>
/// A TCP proxy on loopback between a client and the server that injects network faults: cut every link (with a TCP
/// reset, optionally in the middle of a frame), stall, slice into 1-byte writes, throttle, refuse new connections.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstreamPort;
    private readonly Lock _gate = new();
    private readonly List<Link> _links = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile bool _stalled;
    private volatile bool _refusing;
    private volatile bool _cutMidFrame;

    public FaultProxy(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The proxy's base URL: a page loaded from here has its socket go through the proxy too.</summary>
    public Uri HttpBase => new($"http://127.0.0.1:{Port}/");

    /// <summary>Forward every read in 1-byte writes (TCP segments of one byte each).</summary>
    public bool SliceIntoSingleBytes { get; set; }

    /// <summary>Bytes per second per direction and link; 0 for no limit.</summary>
    public int ThrottleBytesPerSecond { get; set; }

    public int LiveLinks
    {
        get
        {
            lock (_gate)
            {
                return _links.Count;
            }
        }
    }

    public int Cuts { get; private set; }

    /// <summary>Resets every live link at once (no close handshake, no FIN: RST both ways).</summary>
    public int CutAll()
    {
        Link[] links;
        lock (_gate)
        {
            links = [.. _links];
            _links.Clear();
        }

        foreach (var link in links)
        {
            link.Reset();
        }

        Cuts += links.Length;
        return links.Length;
    }

    /// <summary>The next chunk any link forwards is cut in half: the first half goes through, then every link is reset.</summary>
    public void CutInTheMiddleOfTheNextFrame() => _cutMidFrame = true;

    public bool MidFrameCutPending => _cutMidFrame;

    /// <summary>Holds all traffic (links stay open) until <see cref="Resume"/>.</summary>
    /// <summary>
    /// The fault of round <paramref name="round"/> in the schedule the resume tests share, five kinds in turn: two plain
    /// cuts, a cut in the middle of the next frame (<paramref name="sendFillerAsync"/> sends that frame), slicing into
    /// single bytes switched on or off and a cut, and a stall, throttling switched on or off and a cut.
    /// </summary>
    public async Task InjectAsync(int round, Func<Task> sendFillerAsync)
    {
        switch (round % 5)
        {
            case 0:
            case 1:
                CutAll();
                break;
            case 2:
                CutInTheMiddleOfTheNextFrame();
                await sendFillerAsync();
                await TestServer.WaitUntilAsync(() => !MidFrameCutPending);
                break;
            case 3:
                SliceIntoSingleBytes = !SliceIntoSingleBytes;
                CutAll();
                break;
            default:
                Stall();
                await Task.Yield();
                Resume();
                ThrottleBytesPerSecond = ThrottleBytesPerSecond == 0 ? 200_000 : 0;
                CutAll();
                break;
        }
    }

    /// <summary>
    /// Cuts until <paramref name="cuts"/> have been made (a cut can find its link already gone, a reconnect in flight),
    /// then lets the link run clean: no slicing, no throttling.
    /// </summary>
    public async Task MakeUpCutsAndRunCleanAsync(int cuts, Func<bool> connected)
    {
        while (Cuts < cuts)
        {
            await TestServer.WaitUntilAsync(() => connected() && LiveLinks > 0);
            CutAll();
        }

        SliceIntoSingleBytes = false;
        ThrottleBytesPerSecond = 0;
    }

    public void Stall() => _stalled = true;

    public void Resume() => _stalled = false;

    /// <summary>The network goes down: every link is reset and new connections are refused until <see cref="GoUp"/>.</summary>
    public void GoDown()
    {
        RefuseNewConnections = true;
        CutAll();
    }

    public void GoUp() => RefuseNewConnections = false;

    /// <summary>New connections are accepted and reset at once while this is set.</summary>
    public bool RefuseNewConnections { get => _refusing; set => _refusing = value; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CutAll();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stop.Token);
            if (_refusing)
            {
                client.LingerState = new LingerOption(true, 0);
                client.Close();
                continue;
            }

            var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token);
            }
            catch (SocketException)
            {
                client.Close();
                upstream.Dispose();
                continue;
            }

            var link = new Link(client, upstream);
            lock (_gate)
            {
                _links.Add(link);
            }

            _ = PumpAsync(link, client, upstream);
            _ = PumpAsync(link, upstream, client);
        }
    }

    private async Task PumpAsync(Link link, Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                while (_stalled)
                {
                    await Task.Delay(5, _stop.Token);
                }

                if (_cutMidFrame && read > 1)
                {
                    _cutMidFrame = false;
                    await to.SendAsync(buffer.AsMemory(0, read / 2), SocketFlags.None, _stop.Token);
                    CutAll();
                    return;
                }

                await ForwardAsync(to, buffer.AsMemory(0, read));
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            link.Reset();
            lock (_gate)
            {
                _links.Remove(link);
            }
        }
    }

    private async Task ForwardAsync(Socket to, Memory<byte> data)
    {
        if (SliceIntoSingleBytes)
        {
            for (var i = 0; i < data.Length; i++)
            {
                await to.SendAsync(data.Slice(i, 1), SocketFlags.None, _stop.Token);
            }
        }
        else if (ThrottleBytesPerSecond > 0)
        {
            var chunk = Math.Max(1, ThrottleBytesPerSecond / 100);
            for (var at = 0; at < data.Length; at += chunk)
            {
                await to.SendAsync(data.Slice(at, Math.Min(chunk, data.Length - at)), SocketFlags.None, _stop.Token);
                await Task.Delay(10, _stop.Token);
            }
        }
        else
        {
            await to.SendAsync(data, SocketFlags.None, _stop.Token);
        }
    }

    private sealed class Link(Socket client, Socket upstream)
    {
        private int _reset;

        public void Reset()
        {
            if (Interlocked.Exchange(ref _reset, 1) == 1)
            {
                return;
            }

            foreach (var socket in new[] { client, upstream })
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                }
            }
        }
    }
}
