using VizHtml;
using WebSocketExample;

// The vizhtml WebSocket example in C#: a status line, a time field updated ten times a second, and a button
// whose clicks are printed here with the sender's address.
//   dotnet run --project samples/WebSocketExample [-- --port N]
var portIndex = Array.IndexOf(args, "--port");
if (portIndex >= 0)
{
    if (portIndex + 1 >= args.Length || !int.TryParse(args[portIndex + 1], out var port))
    {
        Console.Error.WriteLine("usage: WebSocketExample [--port N]");
        return 2;
    }

    VizHtmlServer.ConfigureDefault(options => options.Port = port);
}

// The default server starts on first use, as the original module does. A taken port is one line and exit code 1, not a
// stack trace.
VizHtmlServer server;
try
{
    server = VizHtmlServer.Default;
}
catch (VizHtmlPortInUseException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

using var example = WebSocketExampleApp.Attach(server, Console.Out);

Console.WriteLine($"Open {server.GetLocalUrl(WebSocketExampleApp.PageName)}");
Console.WriteLine($"From another device: {server.GetServerUrl(WebSocketExampleApp.PageName)}");
Console.WriteLine("Press Ctrl+C to stop.");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

await WebSocketExampleApp.RunClockAsync(server, stop.Token);
await server.DisposeAsync();
return 0;
