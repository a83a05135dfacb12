using System.Text;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Conformance;

/// <summary>
/// One real VizHtml server per test class, with the handler every case relies on:
/// <c>server.OnMessage("echo", e => e.Client.Send("echo", e.Data))</c>.
/// </summary>
public class EchoServerFixture : IAsyncLifetime
{
    private readonly Action<VizHtmlOptions>? _configure;
    private TestServer? _server;

    public EchoServerFixture()
        : this(null)
    {
    }

    protected EchoServerFixture(Action<VizHtmlOptions>? configure) => _configure = configure;

    public TestServer Test => _server ?? throw new InvalidOperationException("The fixture has not started.");

    internal Task<WsWire> ConnectAsync() => WsWire.ConnectAsync(Test.Server.Port);

    /// <summary>Requirement 8 of the suite: after any failed connection a fresh one is served normally.</summary>
    internal async Task AssertStillServesAsync()
    {
        using var ws = await ConnectAsync();
        var text = "still serving ✓ " + Guid.NewGuid();
        await ws.SendTextAsync(Envelope.Echo(text));
        await ws.ExpectEchoAsync(text);
        await ws.SendFrameAsync(Opcode.Close, FrameWriter.ClosePayload(1000));
        await ws.ExpectCloseAsync(1000);
    }

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(o =>
        {
            // A failing client here never answers the server's close; do not wait long for it.
            o.CloseTimeout = TimeSpan.FromMilliseconds(300);
            _configure?.Invoke(o);
        });
        _server.Server.OnMessage("echo", e => e.Client.Send("echo", e.Data));
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The echo server with <see cref="VizHtmlOptions.MaxMessageBytes"/> lowered to 64 KiB.</summary>
public sealed class LimitedEchoServerFixture : EchoServerFixture
{
    public const int MaxMessageBytes = 64 * 1024;

    public LimitedEchoServerFixture()
        : base(o => o.MaxMessageBytes = MaxMessageBytes)
    {
    }
}

/// <summary>Builds the echo envelope <c>{"event":"echo","data":"..."}</c> as raw UTF-8, byte-exact.</summary>
internal static class Envelope
{
    private static readonly byte[] Prefix = Encoding.UTF8.GetBytes("{\"event\":\"echo\",\"data\":\"");
    private static readonly byte[] Suffix = Encoding.UTF8.GetBytes("\"}");

    /// <summary>The envelope's bytes around the data string.</summary>
    public static int Overhead => Prefix.Length + Suffix.Length;

    /// <summary>The data must need no JSON escaping (no quote, backslash or control character); it is written as raw UTF-8.</summary>
    public static byte[] Echo(string data) => Raw(Encoding.UTF8.GetBytes(data));

    /// <summary>An envelope of exactly <paramref name="totalBytes"/> bytes; its data is <see cref="PaddingFor"/>.</summary>
    public static byte[] OfLength(int totalBytes) => Echo(PaddingFor(totalBytes));

    /// <summary>The data string of <see cref="OfLength"/>: printable ASCII that varies, so a misplaced chunk would show.</summary>
    public static string PaddingFor(int totalBytes)
    {
        var length = totalBytes - Overhead;
        ArgumentOutOfRangeException.ThrowIfNegative(length, nameof(totalBytes));
        return string.Create(length, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + (i % 26));
            }
        });
    }

    /// <summary>The envelope with arbitrary bytes (possibly invalid UTF-8) as the content of the data string.</summary>
    public static byte[] Raw(ReadOnlySpan<byte> dataBytes) => [.. Prefix, .. dataBytes, .. Suffix];

    /// <summary>The start of an envelope whose message ends right after <paramref name="dataBytes"/> (no closing quote).</summary>
    public static byte[] Truncated(ReadOnlySpan<byte> dataBytes) => [.. Prefix, .. dataBytes];

    /// <summary>Hex like "ED A0 80" to bytes.</summary>
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
}
