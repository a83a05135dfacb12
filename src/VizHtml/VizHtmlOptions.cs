using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VizHtml.Connections;

namespace VizHtml;

/// <summary>Settings for a <see cref="VizHtmlServer"/>, read once when the server is created and validated when it starts.</summary>
public sealed class VizHtmlOptions
{
    /// <summary>The environment variable the default server reads its port from.</summary>
    public const string PortEnvironmentVariable = "VIZHTML_PORT";

    /// <summary>The TCP port to listen on; 0 picks a free one (read it back from <see cref="VizHtmlServer.Port"/>).</summary>
    /// <value>8080, as the original.</value>
    public int Port { get; set; } = 8080;

    /// <summary>Which web server the program's own VizHtml server runs (ignored by <c>MapVizHtml</c>, which uses the app's).</summary>
    /// <value><see cref="VizHtmlHost.Automatic"/>: Kestrel on .NET 10, the standalone server where VizHtml runs without ASP.NET Core.</value>
    public VizHtmlHost Host { get; set; }

    /// <summary>The local address to listen on.</summary>
    /// <value><see langword="null"/>: every interface (IPv4 and IPv6), so a tablet on the LAN can connect. <see cref="IPAddress.Loopback"/> is the loopback-only switch: only this machine can connect.</value>
    public IPAddress? BindAddress { get; set; }

    /// <summary>The host name or address put in URLs for other devices (<see cref="VizHtmlServer.GetServerUrl()"/>).</summary>
    /// <value><see langword="null"/>: this machine's first LAN IPv4 address, else its host name.</value>
    public string? PublicHost { get; set; }

    /// <summary>
    /// A secret every client must present: the page URL carries it (<c>?key=...</c>; <see cref="VizHtmlServer.GetServerUrl(string)"/>
    /// and the index's QR codes include it, so opening a page pairs a tablet in one step), after which the browser keeps it in a
    /// cookie. Requests without it get 401, socket upgrades included. Never logged.
    /// </summary>
    /// <value><see langword="null"/>: no key.</value>
    public string? AccessKey { get; set; }

    /// <summary>
    /// Origins, besides the server's own, whose pages may open a socket or post to a page (exact <c>scheme://host:port</c>;
    /// <c>"*"</c> for any; <c>"null"</c> for local files). Requests without an Origin header (native clients) are not affected.
    /// </summary>
    /// <value>Empty: only pages served by this server.</value>
    public IList<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Host names, besides IP addresses, <c>localhost</c>, this machine's name and <see cref="PublicHost"/>, that requests may be
    /// addressed to (against DNS rebinding); <c>"*"</c> for any.
    /// </summary>
    /// <value>Empty.</value>
    public IList<string> AllowedHosts { get; set; } = [];

    /// <summary>The server certificate; set it (or <see cref="CertificatePath"/>) to serve https and wss only.</summary>
    /// <value><see langword="null"/>: plain http.</value>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// A certificate file to serve https and wss with: a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>, with <see cref="CertificatePassword"/>)
    /// or a PEM certificate whose key is in <see cref="CertificateKeyPath"/> (or in the same file).
    /// </summary>
    /// <value><see langword="null"/>.</value>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key file for a PEM <see cref="CertificatePath"/>.</summary>
    /// <value><see langword="null"/>: the key is in the certificate file.</value>
    public string? CertificateKeyPath { get; set; }

    /// <summary>The password of a PKCS#12 <see cref="CertificatePath"/>.</summary>
    /// <value><see langword="null"/>.</value>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// The most sockets open at once; upgrades beyond it get 503. The embedded server takes fewer when the process's limit
    /// on open files (<c>ulimit -n</c>) leaves less room, and logs a warning with the numbers; it also closes other TCP
    /// connections (idle ones, page loads) beyond <c>max(MaxConnections, 1000)</c> or that room, as soon as it accepts them.
    /// </summary>
    /// <value>10,000.</value>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>The most sockets open at once from one IP address; upgrades beyond it get 429.</summary>
    /// <value>100.</value>
    public int MaxConnectionsPerAddress { get; set; } = 100;

    /// <summary>
    /// How many messages per second one client may send, on average (bursts up to twice this pass). Excess messages are dropped
    /// with an <c>$error</c> event (code <c>rate_limited</c>); a client that keeps flooding for 10 seconds' worth is closed with 1008.
    /// </summary>
    /// <value>500.</value>
    public int MaxMessagesPerSecond { get; set; } = 500;

    /// <summary>How long a new TCP connection may take to send its HTTP request (including a socket upgrade) before it is closed.</summary>
    /// <value>10 seconds.</value>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Where handlers run.</summary>
    /// <value><see cref="VizDispatchMode.Serialized"/>.</value>
    public VizDispatchMode Dispatch { get; set; } = VizDispatchMode.Serialized;

    /// <summary>The context handlers are posted to when <see cref="Dispatch"/> is <see cref="VizDispatchMode.SynchronizationContext"/>.</summary>
    /// <value><see langword="null"/>: the one current on the thread that creates the server.</value>
    public SynchronizationContext? SynchronizationContext { get; set; }

    /// <summary>Where the server logs.</summary>
    /// <value><see langword="null"/>: warnings and errors to the console.</value>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Where the server's <c>VizHtml</c> meter comes from: an app's <see cref="System.Diagnostics.Metrics.IMeterFactory"/>
    /// (from DI) owns the meter and keeps its instruments apart from other apps' in the same process.
    /// </summary>
    /// <value>
    /// <see langword="null"/>: the server makes a <c>VizHtml</c> meter of its own and disposes it with itself;
    /// <c>AddVizHtml</c> uses the app's factory.
    /// </value>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>How sent data is written and received data is bound by <see cref="VizHtmlServer.OnMessage{T}(string, Action{T, VizMessageEvent})"/>.</summary>
    /// <value><see langword="null"/>: <see cref="JsonSerializerDefaults.Web"/> (camelCase property names, case-insensitive binding).</value>
    public JsonSerializerOptions? JsonSerializerOptions { get; set; }

    /// <summary>The largest message a client may send, in bytes, counted across fragments; larger ones close the connection with 1009.</summary>
    /// <value>16 MiB, room for a base64-encoded photo.</value>
    public int MaxMessageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// How many frames one message may arrive in; more close the connection with 1009. Each frame costs the server work however
    /// small it is (an empty one costs 6 bytes on the wire), so this bounds the work one message can cause.
    /// </summary>
    /// <value>4096: a message of <see cref="MaxMessageBytes"/> in 4 KiB fragments. Browsers send a message in one frame or a few.</value>
    public int MaxMessageFrames { get; set; } = 4096;

    /// <summary>
    /// How long a message may take to arrive once it has outgrown the server's first read (its first frame, or its first 4 KiB);
    /// past it the connection is closed with 1008. A smaller message that stalls inside a frame cannot answer pings, so
    /// <see cref="KeepAliveTimeout"/> ends it.
    /// </summary>
    /// <value>30 seconds: a message of <see cref="MaxMessageBytes"/> (16 MiB) arrives within it at 4.5 Mbit/s.</value>
    public TimeSpan MessageAssemblyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many bytes the server holds, for all clients together, in messages still arriving (assembled from their frames;
    /// a message that fits in the first 4 KiB buffer is not counted). A client whose message needs more while the rest is in
    /// use is closed with 1013 (try again later); the others are not touched. The bytes come back when a message is complete
    /// or its connection ends.
    /// </summary>
    /// <value>256 MiB: fifteen messages of <see cref="MaxMessageBytes"/> at once, a small part of a desktop or lab machine; lower it on a small device.</value>
    public long MaxAssemblyBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// How many bytes of <see cref="MaxAssemblyBytes"/> the clients of one IP address may hold together, so that one address
    /// cannot take all of it. It must leave room for one message of <see cref="MaxMessageBytes"/> (held in 64 KiB pieces,
    /// so up to 64 KiB more).
    /// </summary>
    /// <value>64 MiB: a quarter of the default budget, room for three messages of the default <see cref="MaxMessageBytes"/> at once.</value>
    public long MaxAssemblyBytesPerAddress { get; set; } = 64L * 1024 * 1024;

    /// <summary>The deepest JSON nesting a client may send; deeper messages get an <c>$error</c> event.</summary>
    /// <value>64.</value>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>How many events may wait in one client's send queue; past it, <see cref="VizDelivery"/> decides.</summary>
    /// <value>1024.</value>
    public int MaxQueuedMessages { get; set; } = 1024;

    /// <summary>How many bytes may wait in one client's send queue (a single event larger than this is still sent to a client with an empty queue).</summary>
    /// <value>4 MiB.</value>
    public long MaxQueuedBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>How long one write to a client's socket may take before the client is disconnected as slow.</summary>
    /// <value>10 seconds, as SignalR.</value>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The operating system's send buffer for each browser's socket. What waits there is past VizHtml's queue, where the
    /// delivery classes no longer apply: for a slow reader it is stale data it must read before anything newer (a latest
    /// value, the answer to a ping). Left to the system, Linux grows it to megabytes: minutes of backlog for a tablet on a
    /// poor link, and a write that waits for a third of it to drain looks stalled. 0 leaves it to the system.
    /// </summary>
    /// <value>64 KiB. Linux keeps twice this, 128 KiB: about what 1 Gbit/s at a 1 ms round trip keeps in flight.</value>
    public int SocketSendBufferBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// How long a <c>vizhtml.js</c> client whose connection was lost may take to come back and resume: same client object,
    /// every missed reliable event replayed. Past it the client is gone for good.
    /// </summary>
    /// <value>2 minutes, as Socket.IO's recovery window.</value>
    public TimeSpan ResumeTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How many unacknowledged events are kept per client for replay; older ones make a later resume unrecoverable.</summary>
    /// <value>1024.</value>
    public int ReplayBufferMessages { get; set; } = 1024;

    /// <summary>How many bytes of unacknowledged events are kept per client for replay.</summary>
    /// <value>4 MiB (broadcast payloads are shared, so this counts what the client would receive, not copies).</value>
    public long ReplayBufferBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// How many clients may be away (connection lost, may still resume) at once. Past it, the one away longest is
    /// forgotten: its page gets a fresh session and a <c>'resync'</c> when it comes back. Away clients from one address are
    /// also held to <see cref="MaxConnectionsPerAddress"/>, the same way.
    /// </summary>
    /// <value>10,000. An away client holds no copy of the broadcasts it misses (they are kept once for all of them).</value>
    public int MaxAwaySessions { get; set; } = 10_000;

    /// <summary>
    /// How many bytes every client's replay buffer may hold together (each is also held to <see cref="ReplayBufferBytes"/>).
    /// Past it, the clients away longest are forgotten first, as for <see cref="MaxAwaySessions"/>.
    /// </summary>
    /// <value>256 MiB. A broadcast kept for many clients is counted once per client, so this bounds what is kept from above.</value>
    public long TotalReplayBufferBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long a <c>vizhtml.js</c> connection may go without a message before the server sends a heartbeat; the page treats 2.5 times this without any message as a dead server.</summary>
    /// <value>15 seconds.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The largest form post accepted, in bytes, file uploads included; larger ones get 413 (before the body is read when
    /// the request declares its length). A form's files are held in memory up to 64 KiB, and the rest of them in a
    /// temporary file that is deleted once the form-submit handlers have finished.
    /// </summary>
    /// <value>32 MiB.</value>
    public long MaxFormBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// How many bytes of form posts the server holds at once, in memory and in temporary files together. Each form counts
    /// its declared length (at least 128 KiB, what reading it may hold in memory; <see cref="MaxFormBytes"/> when its body
    /// is chunked) from before its body is read until its form-submit handlers have finished, so uploads under way and forms queued behind a busy handler both count. A form
    /// beyond it gets 503 with <c>Retry-After</c> before its body is read; one form larger than this is still taken when no
    /// other form is held.
    /// </summary>
    /// <value>256 MiB: eight forms of the default <see cref="MaxFormBytes"/>.</value>
    public long MaxFormBytesInFlight { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// As <see cref="MaxFormBytesInFlight"/>, for the forms from one IP address: a form beyond it gets 429 with
    /// <c>Retry-After</c> before its body is read, so one address cannot take the whole server's share.
    /// </summary>
    /// <value>64 MiB: two forms of the default <see cref="MaxFormBytes"/>.</value>
    public long MaxFormBytesInFlightPerAddress { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// How long a form post may take to arrive, from its headers to its last byte; a slower one gets 408, and what it held
    /// is freed. Besides this, Kestrel closes a request whose body arrives slower than its minimum data rate (by default 240
    /// bytes a second, after 5 seconds' grace).
    /// </summary>
    /// <value>5 minutes: a form of the default <see cref="MaxFormBytes"/> at 112 KB a second.</value>
    public TimeSpan FormUploadTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The HTML shown after a form submit. <see langword="null"/> sends the browser back to the page it posted from
    /// (post/redirect/get), or, for a form from outside (a local file posting to <c>/vizhtml_form/</c>), shows a short
    /// confirmation.
    /// </summary>
    /// <value><see langword="null"/>.</value>
    public string? FormSubmittedHtml { get; set; }

    /// <summary>
    /// Whether the server serves its built-in jQuery (a pinned jQuery 3.x release, MIT licence) as <c>jquery.js</c>, as the
    /// original does: at <c>&lt;mount&gt;/jquery.js</c> and beside every page (<c>&lt;mount&gt;/&lt;page&gt;/jquery.js</c>, and in
    /// a page's subfolders), so pages that load it by relative URL (<c>&lt;script src="jquery.js"&gt;</c>) work unchanged.
    /// A <c>jquery.js</c> in a page's own directory is served instead of the built-in one either way, as for <c>vizhtml.js</c>;
    /// switched off, a page without one gets 404 for it.
    /// </summary>
    /// <value><see langword="true"/>.</value>
    public bool ServeJQuery { get; set; } = true;

    /// <summary>
    /// Who may open the live status page at <c>&lt;mount&gt;/_status</c> (connected clients, their queues and event rates,
    /// the last refusals and disconnects, the options that matter; never the access key). Loopback by default: whoever sits
    /// at the machine sees it at once, nothing leaves the machine, and a request a proxy forwarded (it carries
    /// <c>Forwarded</c> or <c>X-Forwarded-For</c>) is refused as not local. With an <see cref="AccessKey"/>, the page needs the
    /// key as every page does. It costs nothing while no status page is open.
    /// </summary>
    /// <value><see cref="VizStatusPageAccess.Loopback"/>.</value>
    public VizStatusPageAccess StatusPage { get; set; } = VizStatusPageAccess.Loopback;

    /// <summary>How long a custom request handler may take before the browser gets 503.</summary>
    /// <value>10 seconds.</value>
    public TimeSpan RequestHandlerTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long <see cref="VizClient.RequestAsync{TResponse}"/> waits for a page's answer when the call names no timeout;
    /// <see cref="Timeout.InfiniteTimeSpan"/> for no limit. Time a page spends away counts.
    /// </summary>
    /// <value>30 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether a request handler that throws (anything but a <see cref="VizRequestException"/>) answers with its exception's
    /// message. Off, the page gets the code <c>handler_error</c> and a generic message, and the exception is only logged:
    /// exception text can reveal paths, names and data. Turn it on while developing.
    /// </summary>
    /// <value><see langword="false"/>.</value>
    public bool DetailedErrors { get; set; }

    /// <summary>How often the server pings each browser; a browser that does not answer within <see cref="KeepAliveTimeout"/> is disconnected.</summary>
    /// <value>15 seconds.</value>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the server waits for the answer to a ping before it drops the connection as dead.</summary>
    /// <value>15 seconds.</value>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a close handshake may take before the socket is aborted.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long <see cref="VizHtmlServer.StopAsync"/> lets clients flush and close before cutting them off.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock for timeouts; tests substitute a fake one.</summary>
    /// <value><see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal VizHtmlOptions Clone()
    {
        var copy = (VizHtmlOptions)MemberwiseClone();
        copy.AllowedOrigins = [.. AllowedOrigins];
        copy.AllowedHosts = [.. AllowedHosts];
        return copy;
    }

    internal void Validate()
    {
        Require(Port is >= 0 and <= 65535, nameof(Port), $"must be 0..65535 (was {Port})");
        Require(MaxMessageBytes >= 1024, nameof(MaxMessageBytes), $"must be at least 1024 (was {MaxMessageBytes})");
        Require(MaxMessageFrames >= 1, nameof(MaxMessageFrames), $"must be at least 1 (was {MaxMessageFrames})");
        Require(MessageAssemblyTimeout > TimeSpan.Zero, nameof(MessageAssemblyTimeout), "must be positive");
        var oneMessage = MessageBuffer.PeakBytes(MaxMessageBytes);
        Require(MaxAssemblyBytesPerAddress >= oneMessage, nameof(MaxAssemblyBytesPerAddress), $"must leave room for one message of MaxMessageBytes: at least {oneMessage} (was {MaxAssemblyBytesPerAddress})");
        Require(MaxAssemblyBytes >= MaxAssemblyBytesPerAddress, nameof(MaxAssemblyBytes), $"must be at least MaxAssemblyBytesPerAddress, {MaxAssemblyBytesPerAddress} (was {MaxAssemblyBytes})");
        Require(MaxJsonDepth is >= 1 and <= 1000, nameof(MaxJsonDepth), $"must be 1..1000 (was {MaxJsonDepth})");
        Require(KeepAliveInterval >= TimeSpan.Zero, nameof(KeepAliveInterval), "must not be negative");
        Require(KeepAliveTimeout >= TimeSpan.Zero, nameof(KeepAliveTimeout), "must not be negative");
        Require(AccessKey is null || AccessKey.Length >= 8, nameof(AccessKey), "must be at least 8 characters");
        Require(AllowedOrigins is not null && AllowedHosts is not null, nameof(AllowedOrigins), "and AllowedHosts must not be null");
        Require(Certificate is null || CertificatePath is null, nameof(CertificatePath), $"and {nameof(Certificate)} cannot both be set");
        Require(CertificatePath is null || File.Exists(CertificatePath), nameof(CertificatePath), $"names a file that does not exist ({CertificatePath})");
        Require(CertificateKeyPath is null || File.Exists(CertificateKeyPath), nameof(CertificateKeyPath), $"names a file that does not exist ({CertificateKeyPath})");
        Require(MaxConnections >= 1, nameof(MaxConnections), $"must be at least 1 (was {MaxConnections})");
        Require(MaxConnectionsPerAddress >= 1, nameof(MaxConnectionsPerAddress), $"must be at least 1 (was {MaxConnectionsPerAddress})");
        Require(MaxMessagesPerSecond >= 1, nameof(MaxMessagesPerSecond), $"must be at least 1 (was {MaxMessagesPerSecond})");
        Require(HandshakeTimeout > TimeSpan.Zero, nameof(HandshakeTimeout), "must be positive");
        Require(ResumeTimeout >= TimeSpan.Zero, nameof(ResumeTimeout), "must not be negative");
        Require(ReplayBufferMessages >= 1, nameof(ReplayBufferMessages), $"must be at least 1 (was {ReplayBufferMessages})");
        Require(ReplayBufferBytes >= 1024, nameof(ReplayBufferBytes), $"must be at least 1024 (was {ReplayBufferBytes})");
        Require(MaxAwaySessions >= 0, nameof(MaxAwaySessions), $"must not be negative (was {MaxAwaySessions})");
        Require(TotalReplayBufferBytes >= ReplayBufferBytes, nameof(TotalReplayBufferBytes), $"must be at least ReplayBufferBytes (was {TotalReplayBufferBytes})");
        Require(HeartbeatInterval >= TimeSpan.FromSeconds(1), nameof(HeartbeatInterval), "must be at least 1 second");
        Require(MaxQueuedMessages >= 1, nameof(MaxQueuedMessages), $"must be at least 1 (was {MaxQueuedMessages})");
        Require(MaxQueuedBytes >= 1024, nameof(MaxQueuedBytes), $"must be at least 1024 (was {MaxQueuedBytes})");
        Require(SendTimeout > TimeSpan.Zero, nameof(SendTimeout), "must be positive");
        Require(SocketSendBufferBytes >= 0, nameof(SocketSendBufferBytes), $"must not be negative (was {SocketSendBufferBytes})");
        Require(MaxFormBytes >= 1024, nameof(MaxFormBytes), $"must be at least 1024 (was {MaxFormBytes})");
        Require(MaxFormBytesInFlight >= 1024, nameof(MaxFormBytesInFlight), $"must be at least 1024 (was {MaxFormBytesInFlight})");
        Require(MaxFormBytesInFlightPerAddress >= 1024, nameof(MaxFormBytesInFlightPerAddress), $"must be at least 1024 (was {MaxFormBytesInFlightPerAddress})");
        Require(FormUploadTimeout > TimeSpan.Zero, nameof(FormUploadTimeout), "must be positive");
        Require(RequestHandlerTimeout > TimeSpan.Zero, nameof(RequestHandlerTimeout), "must be positive");
        Require(RequestTimeout > TimeSpan.Zero || RequestTimeout == Timeout.InfiniteTimeSpan, nameof(RequestTimeout), "must be positive or Timeout.InfiniteTimeSpan");
        Require(CloseTimeout > TimeSpan.Zero, nameof(CloseTimeout), "must be positive");
        Require(ShutdownTimeout >= TimeSpan.Zero, nameof(ShutdownTimeout), "must not be negative");
        Require(Enum.IsDefined(Dispatch), nameof(Dispatch), $"is not a {nameof(VizDispatchMode)} ({Dispatch})");
        Require(Enum.IsDefined(StatusPage), nameof(StatusPage), $"is not a {nameof(VizStatusPageAccess)} ({StatusPage})");
        Require(TimeProvider is not null, nameof(TimeProvider), "must not be null");
    }

    private static void Require(bool condition, string property, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"{nameof(VizHtmlOptions)}.{property} {problem}.", property);
        }
    }
}
