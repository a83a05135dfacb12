using VizHtml;

// A questionnaire whose answers the program awaits, as the original's `yield waitFormSubmit()` does.
//   dotnet run --project samples/FormExample [-- --port N]
var portIndex = Array.IndexOf(args, "--port");
var options = new VizHtmlOptions { Port = portIndex >= 0 && portIndex + 1 < args.Length ? int.Parse(args[portIndex + 1], System.Globalization.CultureInfo.InvariantCulture) : 8080 };

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
server.RegisterFile("questionnaire", Path.Combine(AppContext.BaseDirectory, "questionnaire.html"));

Console.WriteLine($"Open {server.GetLocalUrl("questionnaire")} (from a tablet: {server.GetServerUrl("questionnaire")})");
Console.WriteLine("Waiting for answers; Ctrl+C to stop.");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

try
{
    while (true)
    {
        // The program goes on with its own work between questionnaires; here it just waits for the next one.
        var answers = await server.WaitFormSubmitAsync("questionnaire", stop.Token);
        dynamic form = answers;
        Console.WriteLine($"Participant {form.participant} from {answers.Address}: presence {form.presence}");
        Console.WriteLine($"  symptoms: {string.Join(", ", answers.GetValues("symptoms").DefaultIfEmpty("none"))}");
        Console.WriteLine($"  comments: {answers["comments"]}");
        foreach (var file in answers.Files)
        {
            Console.WriteLine($"  file {file.FileName} ({file.ContentType}, {file.Length} bytes)");
        }
    }
}
catch (OperationCanceledException)
{
}

return 0;
