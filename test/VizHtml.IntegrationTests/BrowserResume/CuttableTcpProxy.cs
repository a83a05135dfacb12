using System.Net;
using System.Net.Sockets;

namespace VizHtml.IntegrationTests.BrowserResume;

/// <summary>
/// A TCP relay between the browser and the server that a test can cut like a network failure: <see cref="GoDown"/>
/// resets every relayed connection on both sides (no WebSocket close handshake, as when Wi-Fi drops), and new
/// connections are reset on arrival until <see cref="GoUp"/>. Chromium's offline emulation cannot stand in for this:
/// it leaves open WebSockets open and only holds their traffic.
/// </summary>
public sealed class CuttableTcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _open = [];
    private readonly List<Task> _relays = [];
    private readonly Task _accepting;
    private bool _down;

    private CuttableTcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Starts relaying from a new loopback port to <paramref name="targetPort"/> on loopback.</summary>
    public static CuttableTcpProxy Start(int targetPort) => new(targetPort);

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The server's HTTP base as seen through the relay: pages loaded from here open their socket through it too.</summary>
    public Uri HttpBase => new($"http://127.0.0.1:{Port}/");

    /// <summary>Resets every relayed connection at both ends and refuses new ones until <see cref="GoUp"/>.</summary>
    public void GoDown()
    {
        Socket[] open;
        lock (_open)
        {
            _down = true;
            open = [.. _open];
            _open.Clear();
        }

        foreach (var socket in open)
        {
            Reset(socket);
        }
    }

    /// <summary>Relays new connections again.</summary>
    public void GoUp()
    {
        lock (_open)
        {
            _down = false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        GoDown();
        await _accepting;
        Task[] relays;
        lock (_open)
        {
            relays = [.. _relays];
        }

        await Task.WhenAll(relays);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_open)
            {
                _relays.RemoveAll(t => t.IsCompleted);
                _relays.Add(RelayAsync(client));
            }
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            Reset(client);
            server.Dispose();
            return;
        }

        lock (_open)
        {
            if (_down)
            {
                Reset(client);
                Reset(server);
                return;
            }

            _open.Add(client);
            _open.Add(server);
        }

        await Task.WhenAll(PumpAsync(client, server), PumpAsync(server, client));
        lock (_open)
        {
            _open.Remove(client);
            _open.Remove(server);
        }

        client.Dispose();
        server.Dispose();
    }

    /// <summary>Copies one direction; a clean end is passed on as a FIN, a failure resets both sockets.</summary>
    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var count = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (count == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, count), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            Reset(from);
            Reset(to);
        }
    }

    /// <summary>Closes with linger 0, so the peer gets an RST at once instead of an orderly FIN.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (ObjectDisposedException)
        {
            // Already reset by the other direction.
        }
    }
}
