using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using VizHtml.Http;

namespace VizHtml.Hosting.Kestrel;

/// <summary>The Kestrel server VizHtml runs when the program has none of its own: no configuration files, no HTTPS defaults.</summary>
internal sealed class EmbeddedHost : IServerHost
{
    private readonly WebApplication _app;

    private EmbeddedHost(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The lifetime services resolve (for tests: not the console lifetime).</summary>
    internal Microsoft.Extensions.Hosting.IHostLifetime Lifetime => _app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostLifetime>();

    /// <summary>The port actually bound (the chosen one when the options asked for 0).</summary>
    public int Port { get; }

    public static async Task<EmbeddedHost> StartAsync(
        VizHtmlOptions options, int port, ILoggerFactory loggerFactory, HttpEndpoint endpoint, ConnectionLimits limits, CancellationToken cancellationToken)
    {
        // Connections are refused before the process runs out of file descriptors (ConnectionBudget says why that matters).
        var budget = ConnectionBudget.ForThisProcess(options);
        limits.MaxTotal = budget.Sockets;
        ConnectionBudget.WarnIfLow(budget, options, loggerFactory.CreateLogger("VizHtml"));

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "VizHtml", ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddLogging();

        // The host program owns Ctrl+C and SIGTERM: the default console lifetime would take them, stop this server and leave
        // the program running without it.
        builder.Services.Replace(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostLifetime, EmbeddedLifetime>());
        builder.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(new EmbeddedHostLoggerFactory(loggerFactory)));
        var certificate = Certificates.Load(options);

        // Kestrel's UnsafePreferInlineScheduling (socket continuations on the I/O thread) is off: it made broadcasts cheaper
        // but handler latency and fairness worse (docs/benchmarks-architecture.md). VIZHTML_INLINE_SCHEDULING=1 turns it on
        // for measurement.
        builder.WebHost.UseSockets(sockets =>
        {
            sockets.UnsafePreferInlineScheduling = PreferInlineScheduling;
            sockets.Backlog = budget.Backlog;
            if (IOQueueCount is { } queues)
            {
                sockets.IOQueueCount = queues;
            }
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // A client that opens TCP and never sends its request (or upgrade) is closed after this: Kestrel times a silent
            // new connection with KeepAliveTimeout and a request whose headers dribble in with RequestHeadersTimeout.
            kestrel.Limits.KeepAliveTimeout = options.HandshakeTimeout;
            kestrel.Limits.RequestHeadersTimeout = options.HandshakeTimeout;
            kestrel.Limits.MaxRequestBodySize = options.MaxFormBytes;

            // Counts the connections that are not sockets (an upgrade leaves this count); those beyond it are closed as soon
            // as they are accepted. Sockets are capped by VizHtml itself (503): Kestrel's MaxConcurrentUpgradedConnections
            // would throw from the upgrade instead.
            kestrel.Limits.MaxConcurrentConnections = budget.OtherConnections;
            void Configure(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions listen)
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            }

            if (options.BindAddress is null)
            {
                kestrel.ListenAnyIP(port, Configure);
            }
            else
            {
                kestrel.Listen(options.BindAddress, port, Configure);
            }
        });

        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions
        {
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : options.KeepAliveTimeout,
        });
        app.Run(context => endpoint.HandleAsync(new KestrelExchange(context)));

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await app.DisposeAsync().ConfigureAwait(false);

            // Kestrel wraps AddressInUseException in an IOException whose message and stack say little to a user.
            if (ex is Microsoft.AspNetCore.Connections.AddressInUseException || ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                throw new VizHtmlPortInUseException(port, ex);
            }

            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var bound = addresses.Select(a => BindingAddress.Parse(a).Port).FirstOrDefault(port);
        return new EmbeddedHost(app, bound);
    }

    /// <summary>Kestrel's socket transport option, off unless <c>VIZHTML_INLINE_SCHEDULING=1</c>.</summary>
    internal static bool PreferInlineScheduling { get; } = Environment.GetEnvironmentVariable("VIZHTML_INLINE_SCHEDULING") == "1";

    /// <summary>Kestrel's number of I/O queues (0: socket continuations go straight to the thread pool), Kestrel's default
    /// (the processor count, at most 16) unless <c>VIZHTML_IO_QUEUES</c> says otherwise: for measurement only (docs/benchmarks-notes.md).</summary>
    internal static int? IOQueueCount { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("VIZHTML_IO_QUEUES"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var queues) ? queues : null;

    public async Task StopAsync(CancellationToken cancellationToken) => await _app.StopAsync(cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

/// <summary>A lifetime that starts and stops only when VizHtml says so and leaves process signals to the host program.</summary>
internal sealed class EmbeddedLifetime : Microsoft.Extensions.Hosting.IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// The program's logger factory without the generic host's own categories: the embedded host is VizHtml's detail, and its
/// "Hosting failed to start" would print, with a stack trace, the failure <see cref="EmbeddedHost.StartAsync"/> already
/// throws (a taken port became two stack traces and an abort).
/// </summary>
internal sealed class EmbeddedHostLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal)
            ? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance
            : inner.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The program (or VizHtmlServer) owns the inner factory.
    public void Dispose()
    {
    }
}
