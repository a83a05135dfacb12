using System.Diagnostics;
using System.Net;

namespace VizHtml.MonoHost;

/// <summary>
/// The WebSocket sample (samples/WebSocketExample) under Mono: its own page file at <c>/vizhtml/websocket/</c>, the time
/// sent to every client ten times a second, and connects, disconnects and clicks reported as the sample prints them.
/// Beside it a form page (<c>/vizhtml/form/</c>; <c>/vizhtml/upload/</c> takes a file too, reported as <c>FILE ...</c> with its SHA-256; each submit reported as <c>FORM &lt;page&gt; &lt;name&gt;=&lt;value&gt;...</c>)
/// and a handler page (<c>/vizhtml/hello/?name=</c>, written by a <c>RegisterHandler</c> handler).
/// </summary>
[Scenario("sample")]
internal sealed class SampleScenario : IScenario
{
    private const string FormHtml = """
        <!DOCTYPE html>
        <html>
        <head><meta charset="utf-8"><title>Form under Mono</title></head>
        <body>
          <form method="post">
            <input name="first_name">
            <select name="colors" multiple>
              <option value="red">Red</option>
              <option value="green">Green</option>
              <option value="blue">Blue</option>
            </select>
            <button id="send" type="submit">Send</button>
          </form>
        </body>
        </html>
        """;

    private const string UploadHtml = """
        <!DOCTYPE html>
        <html>
        <head><meta charset="utf-8"><title>Upload under Mono</title></head>
        <body>
          <form method="post" enctype="multipart/form-data">
            <input name="note">
            <input type="file" name="upload">
            <button id="send" type="submit">Send</button>
          </form>
        </body>
        </html>
        """;

    public async Task RunAsync(ScenarioHost host)
    {
        await using var server = new VizHtmlServer(host.Options());

        // The sample's own page, copied beside this program by the project file: the same bytes the .NET 10 sample serves.
        server.RegisterFile("websocket", Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "websocket.html"));
        server.RegisterHtml("form", FormHtml);
        server.RegisterHtml("upload", UploadHtml);
        server.RegisterHandler("hello", request =>
        {
            var name = request.Query.TryGetValue("name", out var values) ? values[0] : "nobody";
            return VizResponse.Html($"<!DOCTYPE html><meta charset=\"utf-8\"><p id=\"answer\">Hello, {WebUtility.HtmlEncode(name)}, from {Runtime()}</p>");
        });

        // As the sample: handlers run one at a time, so these lines never interleave.
        server.OnConnect(e => host.Report($"CONNECT {e.Client.Address}"));
        server.OnDisconnect(e => host.Report($"DISCONNECT {e.Client.Address}"));
        server.OnMessage("button_click", e => host.Report($"BUTTON CLICK {e.Data.GetInt32("count")} from {e.Client.Address}"));
        server.OnFormSubmit(e =>
        {
            host.Report($"FORM {e.Page} from {e.Address}: " + string.Join(" ", e.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={string.Join(",", f.Value)}")));

            // Past 64 KiB a file is spooled to disk (positional reads and writes on .NET Standard's one FileStream): read it both ways.
            foreach (var file in e.Files)
            {
                using var stream = file.OpenRead();
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                host.Report($"FILE {file.FieldName} {file.FileName} {file.ContentType} length={file.Length} content={Sha256(file.Content.ToArray())} stream={Sha256(copy.ToArray())}");
            }
        });

        await server.StartAsync().ConfigureAwait(false);
        host.Report("PORT " + server.Port);

        using var stop = new CancellationTokenSource();
        var clock = RunClockAsync(server, stop.Token);
        await host.ReadCommandsAsync(_ => Task.CompletedTask).ConfigureAwait(false);
        stop.Cancel();
        await clock.ConfigureAwait(false);
    }

    /// <summary>The sample's clock: <c>set_time</c> (seconds since start, one decimal) to every client every 0.1 s.</summary>
    private static async Task RunClockAsync(VizHtmlServer server, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(0.1), cancellationToken).ConfigureAwait(false);
                server.SendAll("set_time", new { time = Math.Round(started.Elapsed.TotalSeconds, 1) });
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Sha256(byte[] bytes)
    {
        using var sha = System.Security.Cryptography.SHA256.Create();
        return Convert.ToBase64String(sha.ComputeHash(bytes));
    }

    private static string Runtime() => Type.GetType("Mono.Runtime") is null ? "another runtime" : "Mono";
}
