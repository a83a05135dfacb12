using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using VizHtml;

// How many small events per second vizhtml.js decodes and dispatches in Chromium (issue 5: at least 200,000).
//   dotnet run -c Release --project bench/VizHtml.BrowserBench -- [--runs 3] [--events 200000] [--size 30] [--out FILE]
// A VizHtmlServer runs in this process. A headless Chromium opens a page that counts one event name with
// socket.onevent; the server SendAlls N events of --size bytes of string data. The rate is (N - 1) divided by the
// time between the first and the last event, both stamped in the page with performance.now(). Each case first gets
// one uncounted warm-up run; the figures are medians of --runs runs. Cases: the default page (protocol 2, which
// accepts batched frames) and a protocol 1 page (one envelope per frame).
// Then vizhtml.js alone: a page whose WebSocket is a stand-in feeds the same events, pre-built, straight into the
// script's message handler, one envelope per frame and 100 per frame (a batch), timed in the page. That separates
// the script's own decode and dispatch cost from the network, the browser's per-frame cost and the server.
// Then the echo round trip (issue 14: a request's p50 within 15 % of a plain event echo's): the page sends N events one
// at a time and awaits the server's answering event, and makes N requests one at a time (socket.request against
// OnRequest), alternating the two kinds run by run; each round trip is timed in the page with performance.now().
//   --only decode|echo runs one part (the gzip size row is always written); --echoes N round trips per kind and run.
// Writes bench/results/browser.json.
var runs = IntOption("--runs", 3);
var events = IntOption("--events", 200_000);
var size = IntOption("--size", 30);
var echoes = IntOption("--echoes", 2_000);
var only = StringOption("--only");
var output = StringOption("--out") ?? Path.Combine(RepositoryRoot(), "bench", "results", "browser.json");
if (runs < 1 || events < 2 || size < 0 || echoes < 1 || only is not (null or "decode" or "echo"))
{
    Console.Error.WriteLine("usage: VizHtml.BrowserBench [--runs N>=1] [--events N>=2] [--size BYTES>=0] [--echoes N>=1] [--only decode|echo] [--out FILE]");
    return 2;
}

const string ChromiumPath = "/usr/bin/chromium";
if (!File.Exists(ChromiumPath))
{
    Console.Error.WriteLine($"Chromium was not found at {ChromiumPath} (apt-get install chromium).");
    return 1;
}

await using var server = new VizHtmlServer(new VizHtmlOptions
{
    Port = 0,
    BindAddress = System.Net.IPAddress.Loopback,
    LoggerFactory = NullLoggerFactory.Instance,
    // The whole burst is queued at once: room for all of it, so the page is never cut off as a slow consumer.
    // This measures the page, not the server's queue policy.
    MaxQueuedMessages = events + 1_000,
    MaxQueuedBytes = 1L << 30,
});
server.RegisterHtml("bench", BenchPage.Html);
server.RegisterHtml("synthetic", BenchPage.SyntheticHtml);
server.RegisterHtml("echo", BenchPage.EchoHtml);
server.OnMessage("ping", e => e.Client.Send("pong", e.Data));
server.OnRequest("echo", e => e.Data);
await server.StartAsync();

Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = ChromiumPath,
    Headless = true,
    Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

var payload = new string('x', size);
var rows = new JsonArray();

// The script as the server serves it, gzipped (the size target of issue 5 is on the compressed script).
using (var http = new HttpClient())
{
    var script = await http.GetByteArrayAsync($"http://127.0.0.1:{server.Port}/vizhtml/vizhtml.js");
    using var compressed = new MemoryStream();
    using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
    {
        gzip.Write(script);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"vizhtml.js: {script.Length:N0} B, {compressed.Length:N0} B gzipped"));
    rows.Add(new JsonObject
    {
        ["scenario"] = "vizhtml.js",
        ["server"] = "n/a",
        ["metric"] = "gzip_bytes",
        ["unit"] = "B",
        ["better"] = "lower",
        ["values"] = new JsonArray((JsonNode)compressed.Length),
        ["median"] = compressed.Length,
        ["note"] = string.Create(CultureInfo.InvariantCulture, $"served script {script.Length} B, GZip (optimal) {compressed.Length} B"),
    });
}

foreach (var (protocol, scenario) in only == "echo" ? [] : new[] { (2, "browser-decode"), (1, "browser-decode-v1") })
{
    await using var context = await browser.NewContextAsync();
    var page = await context.NewPageAsync();
    await page.GotoAsync($"http://127.0.0.1:{server.Port}/vizhtml/bench/?protocol={protocol}");
    await page.WaitForFunctionAsync("() => window.socket.isConnected()");

    var framesPerEvent = await ProbeFramesAsync(page, Math.Min(events, 20_000));
    await MeasureAsync(page, events); // warm-up, not counted
    var rates = new List<double>();
    for (var run = 1; run <= runs; run++)
    {
        rates.Add(await MeasureAsync(page, events));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"protocol {protocol}, run {run}: {rates[^1]:N0} events/s"));
    }

    var median = Median(rates);
    var eventsPerFrame = 1 / framesPerEvent;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"protocol {protocol}: median {median:N0} events/s ({eventsPerFrame:0.#} events per frame)"));
    rows.Add(Row(
        scenario,
        rates,
        string.Create(
            CultureInfo.InvariantCulture,
            $"vizhtml.js protocol {protocol}{(protocol == 2 ? " (announces batch)" : string.Empty)} in headless Chromium; "
            + $"{events:N0} events of {size} B string data from one SendAll loop, counted by one onevent handler; "
            + $"page-side time from first to last event; {eventsPerFrame:0.#} events per WebSocket frame")));
}

foreach (var (perFrame, scenario) in only == "echo" ? [] : new[] { (1, "browser-decode-script-only"), (100, "browser-decode-script-only-batched") })
{
    await using var context = await browser.NewContextAsync();
    var page = await context.NewPageAsync();
    await page.GotoAsync($"http://127.0.0.1:{server.Port}/vizhtml/synthetic/");
    var rates = new List<double>();
    for (var run = 0; run <= runs; run++)
    {
        var ms = await page.EvaluateAsync<double>("([events, perFrame, size]) => window.run(events, perFrame, size)", new[] { events, perFrame, size });
        if (run > 0)
        {
            // Run 0 is the warm-up.
            rates.Add(events / (ms / 1000));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"script only, {perFrame} per frame, run {run}: {rates[^1]:N0} events/s"));
        }
    }

    var median = Median(rates);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"script only, {perFrame} per frame: median {median:N0} events/s"));
    rows.Add(Row(
        scenario,
        rates,
        string.Create(
            CultureInfo.InvariantCulture,
            $"vizhtml.js alone (protocol 2) in headless Chromium: {events:N0} pre-built events of {size} B string data, {perFrame} per frame, fed to the script's message handler by a stand-in WebSocket (no network, no server)")));
}

if (only != "decode")
{
    await using var context = await browser.NewContextAsync();
    var page = await context.NewPageAsync();
    await page.GotoAsync($"http://127.0.0.1:{server.Port}/vizhtml/echo/");
    await page.WaitForFunctionAsync("() => window.socket.isConnected()");
    var kinds = new[] { "event", "request" };
    var p50s = kinds.ToDictionary(k => k, _ => new List<double>());
    foreach (var kind in kinds)
    {
        await EchoAsync(page, kind, Math.Min(echoes, 500)); // warm-up, not counted
    }

    for (var run = 1; run <= runs; run++)
    {
        // Alternating which goes first, so neither always has the warmer machine.
        foreach (var kind in run % 2 == 1 ? kinds : kinds.Reverse())
        {
            var micros = (await EchoAsync(page, kind, echoes)).Select(ms => ms * 1000).Order().ToList();
            p50s[kind].Add(micros[micros.Count / 2]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"echo {kind}, run {run}: p50 {p50s[kind][^1]:N0} µs, p99 {micros[(int)(micros.Count * 0.99)]:N0} µs"));
        }
    }

    var eventMedian = Median(p50s["event"]);
    var requestMedian = Median(p50s["request"]);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"echo p50: event {eventMedian:N0} µs, request {requestMedian:N0} µs ({(requestMedian / eventMedian - 1) * 100:+0.0;-0.0} %; target within 15 %)"));
    foreach (var kind in kinds)
    {
        rows.Add(new JsonObject
        {
            ["scenario"] = $"browser-echo-{kind}",
            ["server"] = "chromium",
            ["metric"] = "p50_us",
            ["unit"] = "µs",
            ["better"] = "lower",
            ["values"] = new JsonArray(p50s[kind].Select(v => (JsonNode)Math.Round(v)).ToArray()),
            ["median"] = Math.Round(Median(p50s[kind])),
            ["note"] = kind == "event"
                ? $"vizhtml.js protocol 2 in headless Chromium: {echoes:N0} round trips one at a time, socket.send('ping', i) answered by an OnMessage handler's e.Client.Send('pong', e.Data), timed in the page; p50 per run, median of {runs} runs after a warm-up, the two kinds alternating"
                : $"as browser-echo-event, with socket.request('echo', i) answered by OnRequest(\"echo\", e => e.Data); target: within 15 % of browser-echo-event (issue 14)",
        });
    }
}

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
await File.WriteAllTextAsync(output, rows.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
Console.WriteLine($"wrote {output}");
return 0;

// Sends the burst and returns the page's rate: (count - 1) events over the first-to-last interval.
async Task<double> MeasureAsync(IPage page, int count)
{
    await page.EvaluateAsync("count => window.bench.arm(count)", count);
    for (var i = 0; i < count; i++)
    {
        server.SendAll("b", payload);
    }

    await page.WaitForFunctionAsync("() => window.bench.done()", null, new PageWaitForFunctionOptions { PollingInterval = 50, Timeout = 300_000 });
    var span = await page.EvaluateAsync<double>("() => window.bench.elapsedMs()");
    return (count - 1) / (span / 1000);
}

// Round trips of one kind, one at a time: their durations in ms as the page measured them.
async Task<double[]> EchoAsync(IPage page, string kind, int count) =>
    await page.EvaluateAsync<double[]>("([kind, count]) => window.echo(kind, count)", new object[] { kind, count });

// How many WebSocket frames carried each event (1 without batching), from a short burst with frame counting on.
async Task<double> ProbeFramesAsync(IPage page, int count)
{
    await page.EvaluateAsync("() => window.bench.countFrames(true)");
    await MeasureAsync(page, count);
    var frames = await page.EvaluateAsync<double>("() => window.bench.countFrames(false)");
    return frames / count;
}

// One result row as the suite's contract describes it.
JsonObject Row(string scenario, List<double> rates, string note) => new()
{
    ["scenario"] = scenario,
    ["server"] = "chromium",
    ["metric"] = "events_per_s",
    ["unit"] = "events/s",
    ["better"] = "higher",
    ["values"] = new JsonArray(rates.Select(r => (JsonNode)Math.Round(r)).ToArray()),
    ["median"] = Math.Round(Median(rates)),
    ["note"] = $"{note}; median of {rates.Count} runs after a warm-up",
};

int IntOption(string name, int fallback) =>
    StringOption(name) is { } text ? int.Parse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : fallback;

string? StringOption(string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    var mid = sorted.Length / 2;
    return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// The checkout's root (where VizHtml.slnx is), from the working directory or the program's own location.
static string RepositoryRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VizHtml.slnx")))
            {
                return dir.FullName;
            }
        }
    }

    return Directory.GetCurrentDirectory();
}

/// <summary>The measuring page: one socket (protocol from the query) and one counting handler.</summary>
internal static class BenchPage
{
    // Frame counting adds a message listener to the page's socket during the probe burst only.
    public const string Html = """
        <!DOCTYPE html>
        <html>
        <head>
          <meta charset="utf-8">
          <title>vizhtml.js decode bench</title>
          <script>
            // Remembers the page's socket so the probe can listen to its frames; no cost otherwise.
            const NativeWebSocket = window.WebSocket;
            window.WebSocket = class extends NativeWebSocket {
              constructor(url) {
                super(url);
                window.rawSocket = this;
              }
            };
          </script>
          <script src="vizhtml.js"></script>
        </head>
        <body>
          <script>
            const protocol = Number(new URLSearchParams(location.search).get('protocol') || 2);
            let n = 0;
            let target = 0;
            let first = 0;
            let last = 0;
            let frames = 0;
            const countFrame = () => { frames++; };
            window.socket = new viz.WebSocket(undefined, { protocol });
            socket.onevent('b', function () {
              n++;
              if (n === 1) first = performance.now();
              if (n === target) last = performance.now();
            });
            window.bench = {
              arm(count) { n = 0; target = count; first = 0; last = 0; },
              done() { return target > 0 && n >= target; },
              elapsedMs() { return last - first; },
              countFrames(on) {
                const seen = frames;
                frames = 0;
                if (on) window.rawSocket.addEventListener('message', countFrame);
                else window.rawSocket.removeEventListener('message', countFrame);
                return seen;
              },
            };
          </script>
        </body>
        </html>
        """;

    // Echo round trips: an event answered by an event, and a request answered by its reply.
    public const string EchoHtml = """
        <!DOCTYPE html>
        <html>
        <head>
          <meta charset="utf-8">
          <title>vizhtml.js echo bench</title>
          <script src="vizhtml.js"></script>
        </head>
        <body>
          <script>
            let answered = null;
            window.socket = new viz.WebSocket();
            socket.onevent('pong', function () {
              const done = answered;
              answered = null;
              if (done) done();
            });
            window.echo = async function (kind, count) {
              const times = [];
              for (let i = 0; i < count; i++) {
                const start = performance.now();
                if (kind === 'request') await socket.request('echo', i);
                else await new Promise((resolve) => { answered = resolve; socket.send('ping', i); });
                times.push(performance.now() - start);
              }
              return times;
            };
          </script>
        </body>
        </html>
        """;

    // A stand-in WebSocket: the page plays the server, so only vizhtml.js's own work is timed.
    public const string SyntheticHtml = """
        <!DOCTYPE html>
        <html>
        <head>
          <meta charset="utf-8">
          <title>vizhtml.js decode bench, script only</title>
          <script>
            window.WebSocket = class {
              constructor(url) { this.url = url; this.readyState = 0; window.standIn = this; }
              send() {}
              close() { this.readyState = 3; }
            };
          </script>
          <script src="vizhtml.js"></script>
        </head>
        <body>
          <script>
            window.run = function (events, perFrame, size) {
              let n = 0;
              const socket = new viz.WebSocket('ws://stand-in.invalid/');
              socket.onevent('b', function () { n++; });
              const ws = window.standIn;
              ws.readyState = 1;
              ws.onopen();
              ws.onmessage({ data: JSON.stringify({ event: '$welcome', data: { v: 2, id: 'bench', token: 't', resumed: false, recovered: false, lastSeq: 0, sentSeq: 0, heartbeatMs: 3600000 } }) });
              const pad = 'x'.repeat(size);
              const frames = [];
              for (let seq = 1; seq <= events; seq += perFrame) {
                const parts = [];
                for (let s = seq; s < seq + perFrame && s <= events; s++) parts.push(`{"seq":${s},"event":"b","data":"${pad}"}`);
                frames.push(perFrame === 1 ? parts[0] : `[${parts.join(',')}]`);
              }
              const start = performance.now();
              for (let i = 0; i < frames.length; i++) ws.onmessage({ data: frames[i] });
              const elapsed = performance.now() - start;
              socket.close();
              if (n !== events) throw new Error(`counted ${n} of ${events} events`);
              return elapsed;
            };
          </script>
        </body>
        </html>
        """;
}
