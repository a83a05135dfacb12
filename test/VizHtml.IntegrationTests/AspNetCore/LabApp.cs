using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Threading.Channels;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.AspNetCore;

/// <summary>
/// An ordinary ASP.NET Core app, "the lab", with VizHtml mapped in as a user would add it: key authentication (a header
/// or a cookie), <c>MapVizHtml().RequireAuthorization(operators)</c>, an API endpoint of its own and a
/// <c>BackgroundService</c> that broadcasts <c>tick</c> through the injected <see cref="VizHtmlServer"/>.
/// </summary>
public sealed class LabApp : IAsyncDisposable
{
    public const string KeyHeader = "X-Lab-Key";
    public const string KeyCookie = "lab_key";

    /// <summary>An operator: may use VizHtml.</summary>
    public const string AliceKey = "alice-key";

    /// <summary>Another operator.</summary>
    public const string CarolKey = "carol-key";

    /// <summary>Authenticated, but not an operator: VizHtml forbids him.</summary>
    public const string BobKey = "bob-key";

    private readonly WebApplication _app;

    private LabApp(WebApplication app, int port, string pathBase)
    {
        _app = app;
        Port = port;
        PathBase = pathBase;
        Server = app.Services.GetRequiredService<VizHtmlServer>();
        Ticks = app.Services.GetRequiredService<TickRequests>();
    }

    /// <summary>The server the app's services hold, as any controller or service would inject it.</summary>
    public VizHtmlServer Server { get; }

    /// <summary>Asks the app's background service to broadcast its next tick.</summary>
    public TickRequests Ticks { get; }

    public int Port { get; }

    /// <summary>The app's path base (<c>UsePathBase</c>), empty for none.</summary>
    public string PathBase { get; }

    /// <summary>The app's root, path base included, ending in a slash: VizHtml is at <c>vizhtml/</c> below it.</summary>
    public Uri HttpBase => new($"http://127.0.0.1:{Port}{PathBase}/");

    public Uri SocketUri => new($"ws://127.0.0.1:{Port}{PathBase}/vizhtml/socket");

    public static async Task<LabApp> StartAsync(string pathBase = "")
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "VizHtml.IntegrationTests.Lab",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        builder.Services.AddAuthentication(LabKeyHandler.Name).AddScheme<AuthenticationSchemeOptions, LabKeyHandler>(LabKeyHandler.Name, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy("operators", policy => policy.RequireRole("operator"));
        builder.Services.AddVizHtml(o =>
        {
            o.CloseTimeout = TimeSpan.FromSeconds(2);
            o.ShutdownTimeout = TimeSpan.FromSeconds(2);
        });
        builder.Services.AddSingleton<TickRequests>();
        builder.Services.AddHostedService<TickService>();

        var app = builder.Build();
        if (pathBase.Length > 0)
        {
            app.UsePathBase(pathBase);
        }

        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/api/ping", (ClaimsPrincipal user) => $"pong {user.Identity?.Name ?? "anonymous"}");
        app.MapVizHtml().RequireAuthorization("operators");
        try
        {
            await app.StartAsync().WaitAsync(TestServer.Timeout);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new LabApp(app, new Uri(address).Port, pathBase);
    }

    /// <summary>An HttpClient for the app that never follows redirects; <paramref name="key"/> is sent in the key header.</summary>
    public HttpClient HttpClient(string? key = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = HttpBase,
            Timeout = TestServer.Timeout,
        };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add(KeyHeader, key);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(TestServer.Timeout);
        await _app.DisposeAsync().AsTask().WaitAsync(TestServer.Timeout);
    }

    /// <summary>Signs requests in by a key in <see cref="KeyHeader"/> or the <see cref="KeyCookie"/> cookie; none is anonymous.</summary>
    private sealed class LabKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "LabKey";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var key = Request.Headers[KeyHeader].FirstOrDefault() ?? Request.Cookies[KeyCookie];
            Claim[]? claims = key switch
            {
                null => null,
                AliceKey => [new(ClaimTypes.Name, "alice"), new(ClaimTypes.Role, "operator")],
                CarolKey => [new(ClaimTypes.Name, "carol"), new(ClaimTypes.Role, "operator")],
                BobKey => [new(ClaimTypes.Name, "bob")],
                _ => [],
            };
            return Task.FromResult(claims switch
            {
                null => AuthenticateResult.NoResult(),
                [] => AuthenticateResult.Fail("unknown key"),
                _ => AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, Name)), Name)),
            });
        }
    }
}

/// <summary>The test's line to the app's background service: each request is one <c>tick</c> broadcast.</summary>
public sealed class TickRequests
{
    private readonly Channel<TaskCompletionSource<int>> _requests = Channel.CreateUnbounded<TaskCompletionSource<int>>();

    internal ChannelReader<TaskCompletionSource<int>> Reader => _requests.Reader;

    /// <summary>Has the service broadcast its next tick; returns how many clients <c>SendAll</c> reached.</summary>
    public async Task<int> TickAsync()
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _requests.Writer.WriteAsync(done);
        return await done.Task.WaitAsync(TestServer.Timeout);
    }
}

/// <summary>A hosted service with the server injected, broadcasting <c>tick</c> 1, 2, 3... as an app's worker would.</summary>
internal sealed class TickService(VizHtmlServer server, TickRequests requests) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var n = 0;
        await foreach (var request in requests.Reader.ReadAllAsync(stoppingToken))
        {
            request.TrySetResult(server.SendAll("tick", ++n));
        }
    }
}
