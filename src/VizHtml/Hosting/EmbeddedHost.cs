using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace VizHtml.Hosting;

/// <summary>The Kestrel server VizHtml runs when the program has none of its own: no configuration files, no HTTPS defaults.</summary>
internal sealed class EmbeddedHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmbeddedHost(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The port actually bound (the chosen one when the options asked for 0).</summary>
    public int Port { get; }

    public static async Task<EmbeddedHost> StartAsync(VizHtmlOptions options, int port, ILoggerFactory loggerFactory, RequestDelegate handler, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "VizHtml", ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddLogging();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (options.BindAddress is null)
            {
                kestrel.ListenAnyIP(port);
            }
            else
            {
                kestrel.Listen(options.BindAddress, port);
            }
        });

        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions
        {
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : options.KeepAliveTimeout,
        });
        app.Run(handler);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var bound = addresses.Select(a => BindingAddress.Parse(a).Port).FirstOrDefault(port);
        return new EmbeddedHost(app, bound);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await _app.StopAsync(cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
