using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using VizHtml.Http;

namespace VizHtml.Hosting.Standalone;

/// <summary>What every connection of one <see cref="StandaloneHost"/> shares.</summary>
internal sealed record StandaloneSettings(
    HttpEndpoint Endpoint,
    X509Certificate2? Certificate,
    TimeSpan HeadersTimeout,
    TimeSpan BodyTimeout,
    TimeSpan SendTimeout,
    TimeSpan KeepAliveInterval,
    TimeSpan KeepAliveTimeout,
    TimeProvider TimeProvider,
    ILogger Logger,
    ILogger RequestLogger);

/// <summary>
/// One TCP connection of the standalone host: TLS when configured, then HTTP/1.1 requests one after another (keep-alive),
/// each parsed by <see cref="RequestHead"/> and answered by the <see cref="HttpEndpoint"/> through a
/// <see cref="StandaloneExchange"/>, until the client or a limit closes it, or the request becomes a WebSocket.
/// </summary>
/// <remarks>
/// Every wait has a deadline on the server's <see cref="TimeProvider"/>: the request line and headers
/// (<see cref="StandaloneSettings.HeadersTimeout"/>, also the time a kept-alive connection may stay idle), each read of a
/// body (<see cref="StandaloneSettings.BodyTimeout"/>) and each write (<see cref="StandaloneSettings.SendTimeout"/>). A
/// deadline that passes closes the socket, which ends whatever read or write waits on it, on every runtime.
/// </remarks>
internal sealed class HttpConnection : IDisposable
{
    private const int InitialBufferBytes = 4 * 1024;

    /// <summary>The most of an unread body a connection reads and drops before it closes; past it the peer gets a reset.</summary>
    private const long MaxDrainBytes = 1024 * 1024;

    private readonly Socket _socket;
    private readonly StandaloneSettings _settings;
    private readonly Action _leftOtherConnections;
    private readonly CancellationTokenSource _aborted = new();
    private readonly ITimer _deadline;
    private readonly object _gate = new();
    private Stream _stream;
    private byte[] _buffer = new byte[InitialBufferBytes];
    private int _start;
    private int _end;
    private Task? _watch;
    private bool _idle;
    private bool _stopping;
    private int _closed;

    public HttpConnection(Socket socket, StandaloneSettings settings, Action leftOtherConnections)
    {
        _socket = socket;
        _settings = settings;
        _leftOtherConnections = leftOtherConnections;
        // The stream owns the socket: when the WebSocket aborts (a dead peer, a failed frame) it disposes the stream, and
        // that must close the socket, or a read pending on it would wait forever.
        _stream = new NetworkStream(socket, ownsSocket: true);
        _deadline = settings.TimeProvider.CreateTimer(static state => ((HttpConnection)state!).Abort(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        RemoteAddress = (socket.RemoteEndPoint as IPEndPoint)?.Address;
    }

    public IPAddress? RemoteAddress { get; }

    public bool IsTls => _settings.Certificate is not null;

    /// <summary>Fires when the connection is closed under a request: the peer went away, a deadline passed, or the host stopped.</summary>
    public CancellationToken Aborted => _aborted.Token;

    public StandaloneSettings Settings => _settings;

    /// <summary>Serves requests until the connection ends; never throws.</summary>
    public async Task RunAsync()
    {
        try
        {
            if (_settings.Certificate is { } certificate)
            {
                Arm(_settings.HeadersTimeout);
                var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
                _stream = tls;
#if NET
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, _aborted.Token).ConfigureAwait(false);
#else
                await tls.AuthenticateAsServerAsync(certificate, clientCertificateRequired: false, System.Security.Authentication.SslProtocols.None, checkCertificateRevocation: false).ConfigureAwait(false);
#endif
            }

            while (!_stopping)
            {
                var head = await ReadHeadAsync().ConfigureAwait(false);
                if (head is null)
                {
                    return;
                }

                _settings.RequestLogger.LogDebug("{Method} {Target} HTTP/1.{Minor} from {Address}", head.Method, head.RawTarget, head.IsHttp11 ? 1 : 0, HttpEndpoint.FormatAddress(RemoteAddress));
                var exchange = new StandaloneExchange(this, head);
                if (!head.HasContentLength || head.ContentLength == 0)
                {
                    BodyComplete(exchange);
                }

                await _settings.Endpoint.HandleAsync(exchange).ConfigureAwait(false);
                if (exchange.Upgraded)
                {
                    return;
                }

                if (!exchange.HasResponded)
                {
                    await exchange.RespondAsync(500, null, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
                }

                if (exchange.CloseAfterResponse)
                {
                    if (exchange.UnreadBodyBytes > 0)
                    {
                        await DrainAsync(exchange.UnreadBodyBytes).ConfigureAwait(false);
                    }

                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // The peer went away, sent what TLS or HTTP cannot take, or a deadline closed the socket: nothing to answer.
        }
#pragma warning disable CA1031 // The connection's last line: a failure here must not take the host down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _settings.Logger.LogError(ex, "A connection from {Address} failed", HttpEndpoint.FormatAddress(RemoteAddress));
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>Reads the next request's head within the headers deadline; null when the peer closed, or after a refusal was sent.</summary>
    private async Task<RequestHead?> ReadHeadAsync()
    {
        // Armed before waiting for the background read: it waits for the next request's first bytes, which an idle
        // kept-alive connection may never send.
        Arm(_settings.HeadersTimeout);
        if (_watch is { } watch)
        {
            // Waiting for the next request with nothing of it buffered: idle, so a stopping host closes it at once.
            if (!MarkIdle(_end == _start))
            {
                return null;
            }

            _watch = null;
            await watch.ConfigureAwait(false);
            MarkIdle(false);
        }

        var scanned = 0;
        while (true)
        {
            var available = _buffer.AsSpan(_start, _end - _start);
            var end = available[Math.Max(0, scanned - 3)..].IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                end += Math.Max(0, scanned - 3);
                var head = RequestHead.Parse(available[..end], out var refusal);
                _start += end + 4;
                Disarm();
                if (head is null)
                {
                    await RefuseAsync(refusal, available[..end]).ConfigureAwait(false);
                }

                return head;
            }

            scanned = available.Length;
            if (available.Length >= RequestHead.MaxHeadBytes)
            {
                var lineEnd = available.IndexOf("\r\n"u8);
                await RefuseAsync(
                    lineEnd < 0 || lineEnd > RequestHead.MaxRequestLineBytes
                        ? new HttpRefusal(414, "The request line is too long.")
                        : new HttpRefusal(431, "The request headers are too large."),
                    available).ConfigureAwait(false);
                return null;
            }

            if (!MarkIdle(available.Length == 0))
            {
                return null;
            }

            var read = await ReadMoreAsync(RequestHead.MaxHeadBytes).ConfigureAwait(false);
            MarkIdle(false);

            if (read == 0)
            {
                // A peer that closes between requests is done; one that closes mid-head gets nothing either.
                return null;
            }
        }
    }

    /// <summary>Records whether the connection waits between requests; false when it is idle and the host is stopping (then it closes).</summary>
    private bool MarkIdle(bool idle)
    {
        lock (_gate)
        {
            _idle = idle;
            return !(idle && _stopping);
        }
    }

    /// <summary>Reads more bytes after <see cref="_end"/>, moving what is unread to the front and growing the buffer up to <paramref name="limit"/>.</summary>
    private async Task<int> ReadMoreAsync(int limit)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length && _buffer.Length < limit)
        {
            Array.Resize(ref _buffer, Math.Min(limit, _buffer.Length * 2));
        }

        var read = await _stream.ReadAsync(_buffer.AsMemory(_end, Math.Min(_buffer.Length, limit) - _end)).ConfigureAwait(false);
        _end += read;
        return read;
    }

    /// <summary>Reads up to <paramref name="destination"/>'s length of a body: bytes already buffered first, then the socket, within the body deadline.</summary>
    public async ValueTask<int> ReadBodyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_end > _start)
        {
            var count = Math.Min(destination.Length, _end - _start);
            _buffer.AsMemory(_start, count).CopyTo(destination);
            _start += count;
            return count;
        }

        Arm(_settings.BodyTimeout);
        try
        {
            return await _stream.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Disarm();
        }
    }

    /// <summary>
    /// Reads and drops what is left of a body the response did not wait for (a 413 or 503 answered from the head), up to
    /// <see cref="MaxDrainBytes"/> and within the body deadline, before the connection closes. A client that writes its
    /// whole body before it reads the answer (HttpClient, browsers) would otherwise get a reset, not the answer: closing a
    /// socket with unread bytes sends one. Kestrel drains such a body too.
    /// </summary>
    private async Task DrainAsync(long remaining)
    {
        var buffered = Math.Min(_end - _start, remaining);
        _start = _end;
        var scratch = new byte[16 * 1024];
        var left = Math.Min(remaining - buffered, MaxDrainBytes);
        Arm(_settings.BodyTimeout);
        try
        {
            while (left > 0)
            {
                var read = await _stream.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, left))).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                left -= read;
            }
        }
        finally
        {
            Disarm();
        }
    }

    /// <summary>
    /// The request's body has been read (or it has none): from here, a read of the next request's first bytes runs in the
    /// background, so a peer that goes away while its request is handled cancels <see cref="Aborted"/>.
    /// </summary>
    public void BodyComplete(StandaloneExchange exchange)
    {
        if (exchange.IsWebSocketRequest || _watch is not null)
        {
            return;
        }

        _watch = WatchForCloseAsync();
    }

    private async Task WatchForCloseAsync()
    {
        try
        {
            // Bytes of the next request are here already (pipelined): the peer is there, and a read now could wait for
            // bytes it will never send, holding up that request.
            if (_end > _start)
            {
                return;
            }

            if (await ReadMoreAsync(RequestHead.MaxHeadBytes).ConfigureAwait(false) == 0)
            {
                CancelAborted();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            CancelAborted();
        }
    }

    /// <summary>Writes response bytes within the send deadline.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        Arm(_settings.SendTimeout);
        try
        {
            await _stream.WriteAsync(bytes, _aborted.Token).ConfigureAwait(false);
        }
        finally
        {
            Disarm();
        }
    }

    public Task FlushAsync() => _stream.FlushAsync(_aborted.Token);

    /// <summary>
    /// Hands the connection to the runtime's WebSocket: the bytes the client sent after its upgrade request come first, the
    /// socket's send buffer is set, and the connection no longer counts as an HTTP connection.
    /// </summary>
    public WebSocket BecomeWebSocket(int sendBufferBytes)
    {
        if (sendBufferBytes > 0)
        {
            try
            {
                _socket.SendBufferSize = sendBufferBytes;
            }
            catch (SocketException)
            {
                // The peer went away meanwhile; the socket finds out.
            }
        }

        var early = _buffer.AsSpan(_start, _end - _start).ToArray();

        // The WebSocket reads the socket itself from here: the head buffer (4 KiB or more) would otherwise stay with
        // the connection for its whole life, the largest part of an idle socket's memory.
        _buffer = [];
        _start = _end = 0;
        _leftOtherConnections();
        Stream stream = early.Length == 0 ? _stream : new PrefixedStream(early, _stream);
#if NET
        return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = true,
            KeepAliveInterval = _settings.KeepAliveInterval,
            KeepAliveTimeout = _settings.KeepAliveTimeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : _settings.KeepAliveTimeout,
        });
#else
        // The runtime's WebSocket as .NET Standard 2.0 runtimes have it (Mono, Unity, .NET 8): its keep-alive sends
        // unanswered pongs, so a peer that vanished is found by VizHtml's own heartbeat and send timeout instead.
        // Its frame checks miss unmasked frames and a 64-bit length with the top bit set; the guard has them fail with 1002.
        return WebSocketCompat.CreateServer(new ClientFrameGuardStream(stream), _settings.KeepAliveInterval);
#endif
    }

    /// <summary>The host is stopping: an idle connection closes now, a busy one after its response.</summary>
    public void Stop()
    {
        bool idle;
        lock (_gate)
        {
            _stopping = true;
            idle = _idle;
        }

        if (idle)
        {
            Abort();
        }
    }

    public bool Stopping
    {
        get
        {
            lock (_gate)
            {
                return _stopping;
            }
        }
    }

    /// <summary>Closes the socket at once: every read and write on it ends.</summary>
    public void Abort()
    {
        CancelAborted();

        // A FIN first, as Kestrel does: closing a socket that has a read pending (the watch for the peer going away, a
        // wait for a request's head) resets the connection on Linux, so a client reading a Connection: close response to
        // its end, or waiting on an idle connection the headers deadline closed, got a reset instead of that end.
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        try
        {
            _socket.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void CancelAborted()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private Task RefuseAsync(HttpRefusal refusal, ReadOnlySpan<byte> head)
    {
        _settings.Logger.LogDebug("Refused a request from {Address}: {Status} {Reason} ({RequestLine})", HttpEndpoint.FormatAddress(RemoteAddress), refusal.StatusCode, refusal.Reason, Printable(head));
        return RespondRefusalAsync(refusal);
    }

    /// <summary>The start of a request's first line for a log: visible ASCII as it is, other bytes as <c>\xNN</c> (as Kestrel writes them).</summary>
    private static string Printable(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var line = head[..Math.Min(lineEnd < 0 ? head.Length : lineEnd, 512)];
        var text = new StringBuilder(line.Length);
        foreach (var b in line)
        {
            if (b is >= 0x20 and < 0x7F)
            {
                text.Append((char)b);
            }
            else
            {
                text.Append("\\x").Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    private async Task RespondRefusalAsync(HttpRefusal refusal)
    {
        var body = Encoding.UTF8.GetBytes(refusal.Reason);
        var head = ResponseHead.Format(refusal.StatusCode, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("Connection", "close")], _settings.TimeProvider);
        await WriteAsync(head).ConfigureAwait(false);
        await WriteAsync(body).ConfigureAwait(false);
    }

    private void Arm(TimeSpan timeout)
    {
        if (timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            _deadline.Change(timeout, Timeout.InfiniteTimeSpan);
        }
    }

    private void Disarm() => _deadline.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _deadline.Dispose();
        Abort();
        try
        {
            _stream.Dispose();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
        {
        }

        // _aborted is not disposed: a request's code may still hold its token, and a source without timers needs no disposal.
    }
}
