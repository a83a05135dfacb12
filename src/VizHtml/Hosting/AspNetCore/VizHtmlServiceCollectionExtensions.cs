using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VizHtml;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds VizHtml to an ASP.NET Core app's services; map it with <c>app.MapVizHtml()</c>.</summary>
public static class VizHtmlServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="VizHtmlServer"/> (a singleton: inject it anywhere, a <c>BackgroundService</c> included, to
    /// <c>SendAll</c>), started and stopped with the app. Its options come from <c>IOptions&lt;VizHtmlOptions&gt;</c>, so
    /// <c>services.Configure&lt;VizHtmlOptions&gt;(configuration.GetSection("VizHtml"))</c> binds them from configuration;
    /// logging and <see cref="TimeProvider"/> come from the app's services unless the options set their own. The app's
    /// Kestrel serves it: <see cref="VizHtmlOptions.Port"/>, <see cref="VizHtmlOptions.BindAddress"/> and the certificate
    /// options are the app's business and are not used; <see cref="VizHtmlServer.GetServerUrl()"/> names the app's first
    /// address and the path <c>MapVizHtml</c> was given (a path base set by middleware is not known to it).
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Sets options in code; <see langword="null"/> for none.</param>
    /// <returns>The same services, so calls chain.</returns>
    public static IServiceCollection AddVizHtml(this IServiceCollection services, Action<VizHtmlOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<VizHtmlOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<VizHtmlOptions>>().Value.Clone();
            options.LoggerFactory ??= provider.GetService<ILoggerFactory>();
            if (ReferenceEquals(options.TimeProvider, TimeProvider.System) && provider.GetService<TimeProvider>() is { } time)
            {
                options.TimeProvider = time;
            }

            var server = new VizHtmlServer(options, embedded: false);
            server.UseAppAddress(() => AppAddress(provider));
            return server;
        });
        services.AddHostedService<VizHtmlHostedService>();
        return services;
    }

    /// <summary>The scheme and port of the app's first address (http before https when it has both), once Kestrel has bound.</summary>
    private static (string Scheme, int Port) AppAddress(IServiceProvider provider)
    {
        var addresses = provider.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var bound = addresses
            .Select(a => Uri.TryCreate(a.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri) ? uri : null)
            .Where(uri => uri is not null && uri.Port > 0)
            .OrderBy(uri => uri!.Scheme == "http" ? 0 : 1)
            .FirstOrDefault();
        return bound is null ? ("http", 0) : (bound.Scheme, bound.Port);
    }

    /// <summary>Starts VizHtml with the app (it takes sockets from then on) and stops it first (clients get 1001).</summary>
    private sealed class VizHtmlHostedService(VizHtmlServer server) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => server.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);
    }
}
