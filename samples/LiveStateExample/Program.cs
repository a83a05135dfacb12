using System.Net;
using VizHtml;

// A custom request handler that renders the program's live state: every reload of
// /vizhtml/state/ shows the current values, /vizhtml/state/state.json gives them as JSON,
// and a post of the form changes them.
//   dotnet run --project samples/LiveStateExample [-- --port N]
var portIndex = Array.IndexOf(args, "--port");
var options = new VizHtmlOptions
{
    Port = portIndex >= 0 && portIndex + 1 < args.Length ? int.Parse(args[portIndex + 1], System.Globalization.CultureInfo.InvariantCulture) : 8080,

    // A game-loop host: requests are answered when the loop calls DispatchPending, between frames.
    Dispatch = VizDispatchMode.Manual,
};

await using var server = new VizHtmlServer(options);
try
{
    await server.StartAsync();
}
catch (VizHtmlPortInUseException ex)
{
    // One line and exit code 1, not a stack trace.
    Console.Error.WriteLine(ex.Message);
    return 1;
}

var simulation = new Simulation();

// With manual dispatch the handler runs inside DispatchPending on the loop's own thread, between two steps of the
// simulation, so it reads and changes the state without locks.
server.RegisterHandler("state", request =>
{
    switch (request.Path)
    {
        case "state.json":
            return VizResponse.Json(new { simulation.Frame, simulation.Speed, simulation.Paused });
        case "" when request.Form is { } form:
            simulation.Speed = double.TryParse(form["speed"], System.Globalization.CultureInfo.InvariantCulture, out var speed) ? speed : simulation.Speed;
            simulation.Paused = form.Has("paused");
            return VizResponse.Redirect("/vizhtml/state/");
        case "":
            return VizResponse.Html($"""
                <!DOCTYPE html><html><head><meta charset="utf-8"><title>Simulation state</title></head><body>
                <h1>Frame {simulation.Frame}</h1>
                <form method="post">
                  <label>Speed <input name="speed" value="{WebUtility.HtmlEncode(simulation.Speed.ToString(System.Globalization.CultureInfo.InvariantCulture))}"></label>
                  <label><input type="checkbox" name="paused" {(simulation.Paused ? "checked" : "")}> Paused</label>
                  <button>Apply</button>
                </form>
                <p><a href="state.json">state.json</a></p>
                </body></html>
                """);
        default:
            return null; // decline: default serving answers (404 here, since the page has no directory)
    }
});

Console.WriteLine($"Open {server.GetLocalUrl("state")}");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(16));
try
{
    while (await timer.WaitForNextTickAsync(stop.Token))
    {
        simulation.Step();
        server.DispatchPending();
    }
}
catch (OperationCanceledException)
{
}

return 0;

internal sealed class Simulation
{
    public long Frame { get; private set; }

    public double Speed { get; set; } = 1.0;

    public bool Paused { get; set; }

    public void Step()
    {
        if (!Paused)
        {
            Frame++;
        }
    }
}
