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
    /// address and the path <c>MapVizHtml</c> was given (a path base set by middleware is not known to it). When the options
    /// set an <see cref="VizHtmlOptions.AccessKey"/>, the app's <see cref="ILoggerFactory"/> (registered before this call, as
    /// WebApplication and the generic host do) is wrapped so that none of the app's log lines holds the key either: its
    /// request lines carry VizHtml's URLs.
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
            options.MeterFactory ??= provider.GetService<System.Diagnostics.Metrics.IMeterFactory>();
            if (ReferenceEquals(options.TimeProvider, TimeProvider.System) && provider.GetService<TimeProvider>() is { } time)
            {
                options.TimeProvider = time;
            }

            var server = new VizHtmlServer(options, embedded: false);
            server.UseAppAddress(() => AppAddress(provider));
            return server;
        });
        services.AddHostedService<VizHtmlHostedService>();
        RedactAppLogs(services);
        return services;
    }

    /// <summary>
    /// The app's own lines name VizHtml's URLs too (Kestrel's request lines, HTTP logging, routing), with the access key in
    /// their query: the app's logger factory is wrapped so that, once the options have a key, none of its lines holds it.
    /// Only a factory registered before <c>AddVizHtml</c> can be wrapped; WebApplication and the generic host register
    /// theirs first.
    /// </summary>
    private static void RedactAppLogs(IServiceCollection services)
    {
        var index = -1;
        for (var i = 0; i < services.Count; i++)
        {
            if (services[i].ServiceType == typeof(ILoggerFactory))
            {
                if (Equals(services[i].ServiceKey, AppLoggerFactory.Key))
                {
                    return;
                }

                index = services[i].IsKeyedService ? index : i;
            }
        }

        if (index < 0)
        {
            return;
        }

        // The app's factory stays the container's to make and dispose, under a key of VizHtml's own.
        var original = services[index];
        services.Add(original switch
        {
            { ImplementationInstance: { } instance } => new ServiceDescriptor(typeof(ILoggerFactory), AppLoggerFactory.Key, instance),
            { ImplementationFactory: { } factory } => new ServiceDescriptor(typeof(ILoggerFactory), AppLoggerFactory.Key, (provider, _) => factory(provider), original.Lifetime),
            _ => new ServiceDescriptor(typeof(ILoggerFactory), AppLoggerFactory.Key, original.ImplementationType!, original.Lifetime),
        });
        services[index] = ServiceDescriptor.Singleton<ILoggerFactory>(provider =>
        {
            var inner = provider.GetRequiredKeyedService<ILoggerFactory>(AppLoggerFactory.Key);
            var key = provider.GetRequiredService<IOptions<VizHtmlOptions>>().Value.AccessKey;
            return string.IsNullOrEmpty(key) ? new AppLoggerFactory(inner) : new VizHtml.Security.RedactingLoggerFactory(inner, key);
        });
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

    /// <summary>The app's logger factory, passed through untouched when no key is set; the container disposes it, not this.</summary>
    private sealed class AppLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public static readonly object Key = new();

        public ILogger CreateLogger(string categoryName) => inner.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
        }
    }

    /// <summary>Starts VizHtml with the app (it takes sockets from then on) and stops it first (clients get 1001).</summary>
    private sealed class VizHtmlHostedService(VizHtmlServer server) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => server.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);
    }
}
