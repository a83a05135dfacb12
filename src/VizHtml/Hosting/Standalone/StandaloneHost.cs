using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VizHtml.Http;

namespace VizHtml.Hosting.Standalone;

/// <summary>
/// VizHtml's own HTTP/1.1 server, for runtimes without Kestrel (Unity's Mono, game engines that do not load ASP.NET Core):
/// a <see cref="Socket"/> listener, <see cref="HttpConnection"/> per client, and the runtime's own WebSocket for framing.
/// It serves the same <see cref="HttpEndpoint"/> as the Kestrel host, within the same limits.
/// </summary>
internal sealed class StandaloneHost : IServerHost
{
    private readonly Socket _listener;
    private readonly StandaloneSettings _settings;
    private readonly ConnectionBudget _budget;
    private readonly Dictionary<HttpConnection, Task> _connections = [];
    private readonly object _gate = new();
    private readonly ILogger _logger;
    private Task _acceptLoop = Task.CompletedTask;
    private int _httpConnections;
    private bool _stopped;

    private StandaloneHost(Socket listener, StandaloneSettings settings, ConnectionBudget budget, ILogger logger)
    {
        _listener = listener;
        _settings = settings;
        _budget = budget;
        _logger = logger;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    /// <summary>The port actually bound (the chosen one when the options asked for 0).</summary>
    public int Port { get; }

    public static Task<StandaloneHost> StartAsync(VizHtmlOptions options, int port, ILoggerFactory loggerFactory, HttpEndpoint endpoint, ConnectionLimits limits, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var logger = loggerFactory.CreateLogger("VizHtml");
        var budget = ConnectionBudget.ForThisProcess(options);
        limits.MaxTotal = budget.Sockets;
        ConnectionBudget.WarnIfLow(budget, options, logger);

        var listener = Bind(options.BindAddress, port, budget.Backlog);
        var settings = new StandaloneSettings(
            endpoint,
            Certificates.Load(options),
            HeadersTimeout: options.HandshakeTimeout,
            BodyTimeout: options.HandshakeTimeout,
            SendTimeout: options.SendTimeout,
            options.KeepAliveInterval,
            options.KeepAliveTimeout,
            options.TimeProvider,
            logger,
            loggerFactory.CreateLogger("VizHtml.Http"));
        var host = new StandaloneHost(listener, settings, budget, logger);
        host._acceptLoop = host.AcceptAsync();
        return Task.FromResult(host);
    }

    /// <summary>
    /// Binds the listening socket: dual-stack on every address unless one is given, and on <see cref="IPAddress.IPv6Any"/>
    /// as Kestrel binds it (the runtime makes an IPv6 socket IPv6-only otherwise); a taken port becomes
    /// <see cref="VizHtmlPortInUseException"/>.
    /// </summary>
    private static Socket Bind(IPAddress? address, int port, int backlog)
    {
        var dualStack = (address is null || address.Equals(IPAddress.IPv6Any)) && Socket.OSSupportsIPv6;
        var bindTo = address ?? (dualStack ? IPAddress.IPv6Any : IPAddress.Any);
        var socket = new Socket(bindTo.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (dualStack)
            {
                socket.DualMode = true;
            }

            // As Kestrel: no SO_REUSEADDR on Windows (it would let another process take the port), the default elsewhere.
            socket.Bind(new IPEndPoint(bindTo, port));
            socket.Listen(backlog);
            return socket;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new VizHtmlPortInUseException(port, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptAsync()
    {
        var failures = 0;
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
                failures = 0;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (!Volatile.Read(ref _stopped))
            {
                // A connection reset before it was accepted, or no descriptor left: wait a little rather than spin.
                if (++failures == 1)
                {
                    _logger.LogWarning("Accepting a connection failed: {Error}", ex.SocketErrorCode);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 10 * failures)), _settings.TimeProvider).ConfigureAwait(false);
                continue;
            }
            catch (SocketException)
            {
                return;
            }

            Admit(client);
        }
    }

    /// <summary>Starts serving an accepted connection, or closes it at once past the budget for HTTP connections.</summary>
    private void Admit(Socket client)
    {
        lock (_gate)
        {
            if (_stopped || _httpConnections >= _budget.OtherConnections)
            {
                client.Dispose();
                return;
            }

            _httpConnections++;
        }

        client.NoDelay = true;
        var left = 0;
        void LeaveHttpCount()
        {
            if (Interlocked.Exchange(ref left, 1) == 0)
            {
                lock (_gate)
                {
                    _httpConnections--;
                }
            }
        }

        var connection = new HttpConnection(client, _settings, LeaveHttpCount);
        lock (_gate)
        {
            _connections[connection] = Task.CompletedTask;
        }

        var running = RunAsync(connection, LeaveHttpCount);
        lock (_gate)
        {
            // Unless it has ended already.
            if (_connections.ContainsKey(connection))
            {
                _connections[connection] = running;
            }
        }
    }

    private async Task RunAsync(HttpConnection connection, Action leaveHttpCount)
    {
        // Off the accept loop: the first read may complete inline.
        await Task.Yield();
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            leaveHttpCount();
            lock (_gate)
            {
                _connections.Remove(connection);
            }
        }
    }

    /// <summary>
    /// Stops listening, closes idle connections at once and lets busy ones finish their response (the sessions have closed
    /// their sockets already), within <paramref name="cancellationToken"/>; what is left then is cut off.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        HttpConnection[] open;
        Task[] running;
        lock (_gate)
        {
            _stopped = true;
            open = [.. _connections.Keys];
            running = [.. _connections.Values];
        }

        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        foreach (var connection in open)
        {
            connection.Stop();
        }

        try
        {
            await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            foreach (var connection in open)
            {
                connection.Abort();
            }

            await Task.WhenAll(running).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync().ConfigureAwait(false);
        await StopAsync(now.Token).ConfigureAwait(false);
    }
}
