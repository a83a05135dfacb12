using System.Net;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using VizHtml.BenchServers;

// ASP.NET Core SignalR peer server: JSON hub protocol, default options, WebSockets transport.
//   PORT=9004 dotnet bin/Release/net10.0/SignalRServer.dll
// ws://127.0.0.1:PORT/hub (clients skip negotiation); broadcast is Clients.All.SendAsync("b", payload).
var port = ServerControl.PortFromEnvironment();
var builder = WebApplication.CreateBuilder(args);

// Warnings and up, and to stderr: stdout carries the control protocol.
builder.Logging.ClearProviders();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
builder.Services.AddSignalR();
builder.Services.AddSingleton<ConnectedClients>();

var app = builder.Build();
app.MapHub<BenchHub>("/hub", hub => hub.Transports = HttpTransportType.WebSockets);
await app.StartAsync();

var hubContext = app.Services.GetRequiredService<IHubContext<BenchHub>>();
var connected = app.Services.GetRequiredService<ConnectedClients>();
await ServerControl.RunAsync(
    port,
    clients: () => connected.Count,
    broadcast: payload => new ValueTask(hubContext.Clients.All.SendAsync("b", payload)),
    closeAsync: StopAsync,
    stopping: app.Lifetime.ApplicationStopping);
return 0;

// Open sockets would hold a graceful stop for the host's 30 s; one second is plenty for a benchmark server.
async Task StopAsync()
{
    using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
    await app.StopAsync(grace.Token);
}

/// <summary>The hub every benchmark client connects to.</summary>
internal sealed class BenchHub(ConnectedClients connected) : Hub
{
    /// <summary>Sends <paramref name="p"/> back to the caller as "echo".</summary>
    public Task Echo(string p) => Clients.Caller.SendAsync("echo", p);

    // Called once the client's handshake has completed.
    public override Task OnConnectedAsync()
    {
        connected.Add(1);
        return base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        connected.Add(-1);
        return base.OnDisconnectedAsync(exception);
    }
}

/// <summary>How many clients are connected to <see cref="BenchHub"/>.</summary>
internal sealed class ConnectedClients
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(int delta) => Interlocked.Add(ref _count, delta);
}
