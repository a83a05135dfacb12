using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Security;

/// <summary>
/// The access key, carried everywhere a request carries it and spelled every way a client, a proxy or a log writer spells
/// it, against every log line of every category at Trace: VizHtml's, Kestrel's, the host's and, in the mapped app, ASP.NET
/// Core's HTTP logging with every header and the query string.
/// </summary>
public sealed class KeyRedactionTests
{
    /// <summary>Every character the issue names, and non-ASCII of 2, 3 and 4 UTF-8 bytes.</summary>
    public const string EveryCharacter = "Ab3Q!'()*%+&=#?/ ~@Cd4R-üé€😀Ef5S";

    /// <summary>A key that reads as if it were escaped already and holds a parameter of its own.</summary>
    public const string LooksEscaped = "%41+Gh6T%2B%zz&key=Jk7U";

    /// <summary>A wrong key: the redactor cannot know it, so it has to go by the parameter's name.</summary>
    private const string WrongKey = "Zz9Y!'()*%+&=#?/ ~@üYy8X";

    [Theory]
    [OnEveryHost(EveryCharacter)]
    [OnEveryHost(LooksEscaped)]
    public async Task NoSpellingOfTheKeyOrOfAWrongOneReachesAnyLogLine(TestHost host, string key)
    {
        var capture = new CapturingLoggerProvider();
        var statuses = new Dictionary<string, int>(StringComparer.Ordinal);
        await using (var server = await LoggedServer.StartAsync(host, key, capture))
        {
            server.Server.RegisterHtml("p", "<p>panel</p>");

            // A handler that puts what it was sent into its exception, as application code does.
            server.Server.RegisterHandler("h", VizResponse? (request) => throw new InvalidOperationException(
                $"cannot serve {request.Page}?{request.QueryString}",
                new ArgumentException("the key was " + (request.Query.TryGetValue("key", out var given) && given.Contains(key) ? key : "another"))));

            var port = server.Port;
            var js = EncodeUriComponent(key);
            var escaped = Uri.EscapeDataString(key);
            var wrong = EncodeUriComponent(WrongKey);
            var cookie = "Cookie: vizhtml_key=" + escaped;
            async Task SendAsync(string name, string target, params string[] headers) =>
                statuses[name] = await SendRawAsync(port, target, headers);

            // The URLs the server hands out: the index (GetLocalUrl, GetServerUrl) and a page (also the index's links and QR codes).
            await SendAsync("index", server.Server.GetLocalUrl().PathAndQuery);
            await SendAsync("server page", server.Server.GetServerUrl("p").PathAndQuery);
            await SendAsync("local page", server.Server.GetLocalUrl("p").PathAndQuery);

            // The socket as vizhtml.js opened it (encodeURIComponent leaves !'()* as they are), from the page's origin.
            await SendAsync("socket", $"/vizhtml/socket?v=2&key={js}", [.. Upgrade, $"Origin: http://127.0.0.1:{port}"]);
            await SendAsync("wrong socket", $"/vizhtml/socket?v=2&key={wrong}", [.. Upgrade, $"Origin: http://127.0.0.1:{port}"]);

            // Other spellings of the value and of the name.
            await SendAsync("lower-case hex", $"/vizhtml/p/?key={Encode(key, "-._~", lowerHex: true)}");
            await SendAsync("form encoding", $"/vizhtml/p/?x=1&key={Encode(key, "*-._", spaceAsPlus: true)}");
            await SendAsync("double encoding", $"/vizhtml/p/?key={Uri.EscapeDataString(escaped)}");
            await SendAsync("upper-case name", $"/vizhtml/p/?KEY={js}");
            await SendAsync("escaped name", $"/vizhtml/p/?%6Bey={Encode(key, "-_.!~*'()", lowerHex: true)}");
            await SendAsync("wrong key", $"/vizhtml/p/?key={wrong}");
            await SendAsync("wrong key, escaped name", $"/vizhtml/p/?k%65y={Encode(WrongKey, "*-._", spaceAsPlus: true)}");
            await SendAsync("wrong key in a return URL", $"/vizhtml/p/?next=%2Fvizhtml%2Fp%2F%3Fkey%3D{Uri.EscapeDataString(wrong)}");

            // The key pasted where it does not belong: into the path, into a header, raw into the request line.
            await SendAsync("key in the path", $"/vizhtml/{escaped}/");
            await SendAsync("key in the header", "/vizhtml/p/", "X-VizHtml-Key: " + key);
            await SendAsync("raw key", $"/vizhtml/p/?key={key}");
            await SendAsync("bad request line", $"/vizhtml/p/?key={js} x");

            // Referrers: the page's script and resources are fetched from the page whose URL carries the key.
            await SendAsync("referrer", "/vizhtml/p/vizhtml.js", $"Referer: http://127.0.0.1:{port}/vizhtml/p/?key={js}", cookie);
            await SendAsync("wrong referrer", "/vizhtml/p/vizhtml.js", $"Referer: http://127.0.0.1:{port}/vizhtml/p/?x=1&key={wrong}", cookie);

            // Exceptions whose messages carry the key, decoded, and a wrong one, in the query.
            await SendAsync("handler", $"/vizhtml/h/?key={js}");
            await SendAsync("handler, wrong key", $"/vizhtml/h/?key={wrong}", cookie);
        }

        // The requests did what they were sent to do, so their lines were written.
        void Expect(int status, string name) =>
            Assert.True(statuses[name] == status, $"{name}: {statuses[name]}, not {status} ({string.Join(", ", statuses.Select(s => $"{s.Key} {s.Value}"))})");
        Expect(200, "index");
        Expect(200, "server page");
        Expect(200, "local page");
        Expect(101, "socket");
        Expect(401, "wrong socket");
        Expect(200, "lower-case hex");
        Expect(200, "form encoding");
        Expect(401, "wrong key");
        Expect(400, "bad request line");
        Expect(200, "referrer");
        Expect(500, "handler");
        Expect(500, "handler, wrong key");
        var lines = capture.Lines.ToArray();
        if (host == TestHost.Standalone)
        {
            // The standalone host logs each request's target, and its refusal of the bad request line.
            Assert.Contains(lines, l => l.StartsWith("VizHtml.Http", StringComparison.Ordinal) && l.Contains("/vizhtml/p/?", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("VizHtml", StringComparison.Ordinal) && l.Contains("Refused a request", StringComparison.Ordinal) && l.Contains("/vizhtml/p/?key=", StringComparison.Ordinal));
        }
        else
        {
            Assert.Contains(lines, l => l.StartsWith("Microsoft.AspNetCore.Hosting.Diagnostics", StringComparison.Ordinal) && l.Contains("/vizhtml/p/?", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("Microsoft.AspNetCore.Server.Kestrel.BadRequests", StringComparison.Ordinal));
        }

        Assert.Contains(lines, l => l.Contains("cannot serve", StringComparison.Ordinal) && l.Contains("the key was", StringComparison.Ordinal));
        if (host == TestHost.Mapped)
        {
            Assert.Contains(lines, l => l.StartsWith("Microsoft.AspNetCore.HttpLogging", StringComparison.Ordinal) && l.Contains("Referer: http://127.0.0.1", StringComparison.Ordinal));
        }

        AssertNoSpellingIn(lines, key, WrongKey);
    }

    [Theory, OnOwnHosts]
    public async Task TheDotNetClientLogsNoSpellingOfItsKey(TestHost host)
    {
        var capture = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        await using var server = await TestServer.StartAsync(host, o => o.AccessKey = LooksEscaped);

        // Refused with 401, the client logs the failed attempt and tries again.
        await using (var client = new VizHtmlClient(server.HttpBase, new VizHtmlClientOptions { AccessKey = EveryCharacter, LoggerFactory = factory }))
        {
            using var stop = new CancellationTokenSource();
            var start = client.StartAsync(stop.Token);
            await TestServer.WaitUntilAsync(() => capture.Lines.Any(l => l.Contains("/vizhtml/socket", StringComparison.Ordinal)));
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start);
        }

        AssertNoSpellingIn(capture.Lines.ToArray(), EveryCharacter);
    }

    /// <summary>Fails, naming each spelling found and a line it is in, when any line holds any spelling of any of <paramref name="keys"/>.</summary>
    internal static void AssertNoSpellingIn(string[] lines, params string[] keys)
    {
        var leaks = keys.SelectMany(Spellings)
            .Select(needle => (Needle: needle, Lines: lines.Where(l => l.Contains(needle, StringComparison.Ordinal)).ToArray()))
            .Where(leak => leak.Lines.Length > 0)
            .ToArray();
        Assert.True(leaks.Length == 0, string.Join("\n\n", leaks.Select(leak => $"\"{leak.Needle}\" is in {leak.Lines.Length} lines, e.g.\n{leak.Lines[0]}")));
    }

    private static readonly string[] Upgrade =
        ["Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="];

    /// <summary>
    /// What a grep for the key would look for: the key and its escapings (RFC 3986 as .NET writes it, in either case of hex;
    /// <c>encodeURIComponent</c>; form encoding with <c>+</c> for space; double escaping; Kestrel's <c>\xNN</c> for bytes
    /// outside printable ASCII), and each of its four-character tokens, which survive any escaping, so that a part of the
    /// key is found too.
    /// </summary>
    private static IEnumerable<string> Spellings(string key)
    {
        var escaped = Uri.EscapeDataString(key);
        string[] spellings =
        [
            key,
            escaped,
            Encode(key, "-._~", lowerHex: true),
            EncodeUriComponent(key),
            Encode(key, "-_.!~*'()", lowerHex: true),
            Encode(key, "*-._", spaceAsPlus: true),
            Encode(key, "*-._", spaceAsPlus: true, lowerHex: true),
            Uri.EscapeDataString(escaped),
            Uri.EscapeDataString(EncodeUriComponent(key)),
            string.Concat(Encoding.UTF8.GetBytes(key).Select(b => b is < 0x20 or >= 0x7F ? $"\\x{b:X2}" : ((char)b).ToString())),
        ];
        var tokens = Regex.Matches(key, "[A-Z][a-z][0-9][A-Z]").Select(m => m.Value).ToArray();
        Assert.NotEmpty(tokens);
        return spellings.Concat(tokens).Distinct(StringComparer.Ordinal);
    }

    /// <summary>JavaScript's <c>encodeURIComponent</c>.</summary>
    private static string EncodeUriComponent(string text) => Encode(text, "-_.!~*'()");

    /// <summary>Percent-encodes the UTF-8 bytes of <paramref name="text"/> except ASCII letters, digits and <paramref name="unescaped"/>.</summary>
    private static string Encode(string text, string unescaped, bool spaceAsPlus = false, bool lowerHex = false)
    {
        var result = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || unescaped.Contains(c, StringComparison.Ordinal)))
            {
                result.Append(c);
            }
            else if (c == ' ' && spaceAsPlus)
            {
                result.Append('+');
            }
            else
            {
                result.Append('%').Append(b.ToString(lowerHex ? "x2" : "X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return result.ToString();
    }

    /// <summary>
    /// Sends one GET exactly as written (UTF-8, nothing escaped or checked, so the request line may be invalid) and returns
    /// the response's status code, or 0 when the server closed without one.
    /// </summary>
    private static async Task<int> SendRawAsync(int port, string target, string[] headers)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var stream = tcp.GetStream();
        var connection = headers.Any(h => h.StartsWith("Connection:", StringComparison.Ordinal)) ? string.Empty : "Connection: close\r\n";
        var head = $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{connection}{string.Concat(headers.Select(h => h + "\r\n"))}\r\n";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(head), timeout.Token);
        var buffer = new byte[8192];
        var length = 0;
        while (length < buffer.Length && !Encoding.Latin1.GetString(buffer, 0, length).Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        var response = Encoding.Latin1.GetString(buffer, 0, length);
        return response.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(response.AsSpan(9, 3), out var status) ? status : 0;
    }
}

/// <summary>
/// A server with an access key whose every log line, at Trace, reaches a capture: embedded (through its
/// <see cref="VizHtmlOptions.LoggerFactory"/>), or mapped into an app that logs at Trace to the capture and logs every
/// request with ASP.NET Core's HTTP logging, the query string and the key's headers included.
/// </summary>
internal sealed class LoggedServer : IAsyncDisposable
{
    private readonly TestServer? _embedded;
    private readonly WebApplication? _app;
    private readonly ILoggerFactory? _factory;

    private LoggedServer(VizHtmlServer server, int port, TestServer? embedded, WebApplication? app, ILoggerFactory? factory)
    {
        Server = server;
        Port = port;
        _embedded = embedded;
        _app = app;
        _factory = factory;
    }

    public VizHtmlServer Server { get; }

    public int Port { get; }

    public static async Task<LoggedServer> StartAsync(TestHost host, string key, ILoggerProvider capture)
    {
        if (host != TestHost.Mapped)
        {
            var factory = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
            var test = await TestServer.StartAsync(host, o =>
            {
                o.AccessKey = key;
                o.PublicHost = "127.0.0.1";
                o.LoggerFactory = factory;
            });
            return new LoggedServer(test.Server, test.Port, test, app: null, factory);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "VizHtml.IntegrationTests.LoggedApp",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders().AddProvider(capture).SetMinimumLevel(LogLevel.Trace);
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddHttpLogging(o =>
        {
            o.LoggingFields = HttpLoggingFields.RequestPropertiesAndHeaders | HttpLoggingFields.RequestQuery | HttpLoggingFields.ResponsePropertiesAndHeaders;
            o.RequestHeaders.Add("Referer");
            o.RequestHeaders.Add("Cookie");
            o.RequestHeaders.Add("X-VizHtml-Key");
            o.ResponseHeaders.Add("Set-Cookie");
        });
        builder.Services.AddVizHtml(o =>
        {
            o.AccessKey = key;
            o.PublicHost = "127.0.0.1";
            o.CloseTimeout = TimeSpan.FromSeconds(2);
            o.ShutdownTimeout = TimeSpan.FromSeconds(2);
        });
        var app = builder.Build();
        app.UseHttpLogging();
        app.MapVizHtml();
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
        return new LoggedServer(app.Services.GetRequiredService<VizHtmlServer>(), new Uri(address).Port, embedded: null, app, factory: null);
    }

    public async ValueTask DisposeAsync()
    {
        if (_embedded is not null)
        {
            await _embedded.DisposeAsync();
        }

        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(TestServer.Timeout);
            await _app.DisposeAsync().AsTask().WaitAsync(TestServer.Timeout);
        }

        _factory?.Dispose();
    }
}
