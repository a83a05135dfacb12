using System.Net;
#if NET
using System.Runtime.InteropServices;
#endif
using Microsoft.Extensions.Logging;
using VizHtml;
using VizHtml.BenchServers;

// VizHtml as the benchmarks drive it: public API only, the defaults a user has, except where noted.
//   PORT=9000 dotnet bin/Release/net10.0/VizHtmlBenchServer.dll                 # vizhtml: the Kestrel host
//   PORT=9000 VIZHTML_HOST=standalone dotnet bin/Release/net10.0/VizHtmlBenchServer.dll   # vizhtml-standalone
//   PORT=9000 VIZHTML_METRICS=listen dotnet bin/Release/net10.0/VizHtmlBenchServer.dll     # vizhtml-metrics: listeners on VizHtml's meter and spans
//   PORT=9000 mono ../VizHtmlMonoBenchServer/bin/Release/net48/VizHtmlMonoBenchServer.exe  # vizhtml-mono
// ws://127.0.0.1:PORT/vizhtml/socket?v=2; broadcast is SendAll("b", payload); "echo" goes back to its sender.
// The Mono build (VizHtmlMonoBenchServer) compiles this same file against VizHtml's .NET Standard build, whose only
// host is the standalone one.
var port = ServerControl.PortFromEnvironment();
var host = Environment.GetEnvironmentVariable("VIZHTML_HOST") switch
{
    null or "" or "automatic" => VizHtmlHost.Automatic,
    "kestrel" => VizHtmlHost.Kestrel,
    "standalone" => VizHtmlHost.Standalone,
    var other => throw new ArgumentException($"VIZHTML_HOST must be kestrel, standalone or automatic, not '{other}'"),
};

#if NET
// Attached before the server exists, as an app's OpenTelemetry or dotnet-counters session would be.
using var telemetry = TelemetryListeners.FromEnvironment();
#endif

// stdout carries the control protocol, so the (default: warnings and up) console log goes to stderr.
using var loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(LogLevel.Warning)
    .AddSimpleConsole(console => console.SingleLine = true)
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));

await using var server = new VizHtmlServer(new VizHtmlOptions
{
    Port = port,
    Host = host,
    BindAddress = IPAddress.Loopback,
    LoggerFactory = loggerFactory,

    // The load generator opens every connection from 127.0.0.1 (up to 19,000 idle ones), past the defaults of
    // 100 per address and 10,000 in all; 20,000 is the process's open-file limit anyway.
    MaxConnectionsPerAddress = 20_000,
    MaxConnections = 20_000,

    // The echo test sends as fast as replies come back; the default of 500 messages/s per client would measure
    // the rate limiter, not the server.
    MaxMessagesPerSecond = 1_000_000,

    // Kept at the defaults: the send queue (MaxQueuedMessages 1024, MaxQueuedBytes 4 MiB). The load generator never
    // lets more than 1,000 messages per client go undelivered, for every server alike (VizHtml.LoadGen/README.md).
});

server.OnMessage("echo", e => e.Client.Send("echo", e.Data));
await server.StartAsync();

// SIGTERM and Ctrl+C end the control loop, then the server stops in order (on .NET; under Mono the load generator's
// exit command or the end of stdin does).
using var signalled = new CancellationTokenSource();
#if NET
using var onSigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => signalled.Cancel());
using var onSigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => signalled.Cancel());
#endif

await ServerControl.RunAsync(
    server.Port,
    clients: () => server.ClientCount,
    broadcast: payload =>
    {
        server.SendAll("b", payload);
        return default;
    },
    closeAsync: () => server.StopAsync(),
    stopping: signalled.Token);
return 0;
