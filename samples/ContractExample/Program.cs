using ContractExample;
using VizHtml;

// Events declared once in C# (TrialContract.cs), sent and handled through their descriptors, and a page checked against
// the TypeScript generated from them (page/trial.js, // @ts-check, with page/jsconfig.json).
//   dotnet run --project samples/ContractExample [-- --port N]
//   dotnet run --project samples/ContractExample -- --write-contract page/contract.d.ts   (what the build does after each build)
if (args is ["--write-contract", var path])
{
    VizContract.From(typeof(Trial)).WriteTypeScript(path);
    return 0;
}

var portIndex = Array.IndexOf(args, "--port");
await using var server = new VizHtmlServer(new VizHtmlOptions
{
    Port = portIndex >= 0 && portIndex + 1 < args.Length ? int.Parse(args[portIndex + 1], System.Globalization.CultureInfo.InvariantCulture) : 8080,
});

// Serves the declarations at /vizhtml/contract.d.ts too, for a page project elsewhere to fetch.
server.UseContract(typeof(Trial));
server.RegisterFolder("trial", Path.Combine(AppContext.BaseDirectory, "page"));

var trial = 0;
server.OnMessage(Trial.Click, (click, e) => Console.WriteLine($"{e.Client.Address}: click {click.Count} in trial {click.Trial?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)"}"));
server.OnConnect(e => e.Client.Send(Trial.Started, new TrialStarted(trial, "p01", ["left", "right"])));

try
{
    await server.StartAsync();
}
catch (VizHtmlPortInUseException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

Console.WriteLine($"Open {server.GetLocalUrl("trial")}");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
var frame = 0;
try
{
    while (await timer.WaitForNextTickAsync(stop.Token))
    {
        frame++;
        if (frame % 200 == 0)
        {
            trial++;
            server.SendAll(Trial.Started, new TrialStarted(trial, "p01", ["left", "right"]));
        }

        var angle = frame / 20.0;
        server.SendAll(Trial.Pose, new Pose(Math.Cos(angle), Math.Sin(angle), 0));
    }
}
catch (OperationCanceledException)
{
}

return 0;
