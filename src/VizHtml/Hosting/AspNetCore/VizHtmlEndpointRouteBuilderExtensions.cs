using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using VizHtml;
using VizHtml.Hosting;
using VizHtml.Hosting.Kestrel;
using VizHtml.Http;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps VizHtml into an ASP.NET Core app's endpoints, next to its own.</summary>
public static class VizHtmlEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves VizHtml under <paramref name="pattern"/> (below the app's path base): pages at <c>&lt;pattern&gt;/&lt;name&gt;/</c>,
    /// the index at <c>&lt;pattern&gt;/</c>, <c>vizhtml.js</c> and <c>jquery.js</c>, the socket at <c>&lt;pattern&gt;/socket</c> and form posts at
    /// <c>&lt;pattern&gt;_form/</c>. Call <c>services.AddVizHtml()</c> first.
    /// </summary>
    /// <param name="endpoints">The app (or a route group).</param>
    /// <param name="pattern">The mount path; <c>/vizhtml</c>, as the embedded server and pages written for the original expect.</param>
    /// <returns>A builder for the endpoints' conventions: <c>.RequireAuthorization(policy)</c>, <c>.RequireHost(...)</c>, CORS, as for <c>MapHub</c>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddVizHtml</c> was not called.</exception>
    public static VizHtmlEndpointConventionBuilder MapVizHtml(this IEndpointRouteBuilder endpoints, string pattern = "/vizhtml")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var server = endpoints.ServiceProvider.GetService<VizHtmlServer>()
            ?? throw new InvalidOperationException("MapVizHtml needs VizHtml's services: call builder.Services.AddVizHtml() first.");
        var mount = "/" + pattern.Trim('/');
        var options = server.Options;
        var http = server.CreateEndpoint(mount, (exchange, page) => PageUrl(exchange, mount, page, options.AccessKey));

        // The socket needs ASP.NET Core's WebSocket middleware: a pipeline of VizHtml's own, so the app need not add it
        // (SignalR's MapHub does the same).
        var pipeline = endpoints.CreateApplicationBuilder();
        pipeline.UseWebSockets(new WebSocketOptions
        {
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : options.KeepAliveTimeout,
        });
        pipeline.Run(context => http.HandleAsync(new KestrelExchange(context)));
        var handler = pipeline.Build();
        return new VizHtmlEndpointConventionBuilder(
        [
            endpoints.Map(mount + "/{**path}", handler).WithDisplayName("VizHtml " + mount),
            endpoints.Map(mount + "_form/{**path}", handler).WithDisplayName("VizHtml forms " + mount + "_form"),
        ]);
    }

    private static Uri PageUrl(HttpExchange exchange, string mount, string page, string? key) =>
        new($"{exchange.Scheme}://{exchange.Host}{exchange.PathBase}{mount}/{page}/{(key is null ? string.Empty : "?key=" + Uri.EscapeDataString(key))}");
}

/// <summary>The endpoints <c>MapVizHtml</c> added; conventions apply to all of them.</summary>
public sealed class VizHtmlEndpointConventionBuilder : IEndpointConventionBuilder
{
    private readonly IEndpointConventionBuilder[] _builders;

    internal VizHtmlEndpointConventionBuilder(IEndpointConventionBuilder[] builders) => _builders = builders;

    /// <inheritdoc/>
    public void Add(Action<EndpointBuilder> convention)
    {
        foreach (var builder in _builders)
        {
            builder.Add(convention);
        }
    }

    /// <inheritdoc/>
    public void Finally(Action<EndpointBuilder> finallyConvention)
    {
        foreach (var builder in _builders)
        {
            builder.Finally(finallyConvention);
        }
    }
}
