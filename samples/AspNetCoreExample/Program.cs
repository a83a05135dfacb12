using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using VizHtml;

// VizHtml inside an ordinary ASP.NET Core app: the app's cookie login guards the pages and the socket, the app keeps an
// API of its own, and a background service broadcasts to every open page through the injected VizHtmlServer.
//   dotnet run --project samples/AspNetCoreExample
// Then open http://localhost:5000/login?name=ada (any name: this sample trusts it), which signs you in and shows the
// dashboard: your name as the server sees it, the server's clock, a ping button. http://localhost:5000/api/status is
// the app's own endpoint; in a private window (no cookie) /vizhtml/dashboard/ and its socket answer 401.
var builder = WebApplication.CreateBuilder(args);

// Cookie sign-in; an unauthenticated request to VizHtml gets 401 instead of a redirect to a login form, which a
// WebSocket upgrade could not follow anyway.
builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
    .AddCookie(o => o.Events.OnRedirectToLogin = context =>
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Task.CompletedTask;
    });
builder.Services.AddAuthorization();

// One VizHtmlServer for the whole app, started and stopped with it; options may also come from configuration.
builder.Services.AddVizHtml(o => o.HeartbeatInterval = TimeSpan.FromSeconds(10));
builder.Services.AddHostedService<Clock>();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();

app.MapGet("/login", async (HttpContext context, string name) =>
{
    var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], CookieAuthenticationDefaults.AuthenticationScheme));
    await context.SignInAsync(user);
    return Results.Redirect("/vizhtml/dashboard/");
});

// The app's own API, beside VizHtml: the same server object answers how many pages are open.
app.MapGet("/api/status", (ClaimsPrincipal user, VizHtmlServer server) =>
    new { user = user.Identity?.Name, pages = server.ClientCount });

// Pages at /vizhtml/<name>/, vizhtml.js and the socket at /vizhtml/socket: signed-in users only.
app.MapVizHtml("/vizhtml").RequireAuthorization();

var server = app.Services.GetRequiredService<VizHtmlServer>();
server.RegisterHtml("dashboard", """
    <!DOCTYPE html>
    <html>
    <head><meta charset="utf-8"><title>Dashboard</title><script src="vizhtml.js"></script></head>
    <body>
      <h1>Hello, <span id="user">…</span></h1>
      <p>Server time: <span id="time">waiting</span></p>
      <button id="ping">Ping</button> <span id="pong"></span>
      <script>
        const socket = new viz.WebSocket();
        socket.onevent('welcome', e => document.getElementById('user').textContent = e.data);
        socket.onevent('time', e => document.getElementById('time').textContent = e.data);
        socket.onevent('pong', e => document.getElementById('pong').textContent = e.data);
        document.getElementById('ping').onclick = () => socket.send('ping');
      </script>
    </body>
    </html>
    """);

// VizClient.User is the user the app authenticated when the socket opened.
server.OnConnect(e => e.Client.Send("welcome", e.Client.User?.Identity?.Name));
server.OnMessage("ping", e => e.Client.Send("pong", $"pong for {e.Client.User?.Identity?.Name}, {DateTimeOffset.Now:T}"));

app.Run();

/// <summary>Broadcasts the time to every open page once a second: any service can inject the server and send.</summary>
internal sealed class Clock(VizHtmlServer server) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            server.SendAll("time", DateTimeOffset.Now.ToString("T", System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
