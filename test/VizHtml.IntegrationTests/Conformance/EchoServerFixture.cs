using System.Text;
using VizHtml.IntegrationTests.Infrastructure;
using VizHtml.IntegrationTests.Mono;

namespace VizHtml.IntegrationTests.Conformance;

/// <summary>The servers the conformance suite runs against; each test class has one concrete subclass per host.</summary>
public enum EchoHost
{
    /// <summary>VizHtml's embedded Kestrel, in this process (.NET 10).</summary>
    Kestrel,

    /// <summary>VizHtml's own HTTP/1.1 server (<see cref="VizHtmlHost.Standalone"/>), in this process (.NET 10).</summary>
    Standalone,

    /// <summary>The standalone host of VizHtml's .NET Standard build under Debian's Mono: test/VizHtml.MonoHost's <c>echo</c> scenario.</summary>
    Mono,
}

/// <summary>
/// One real VizHtml echo server per test class, with the handler every case relies on:
/// <c>server.OnMessage("echo", e => e.Client.Send("echo", e.Data))</c>. The test classes are generic over it and see only
/// its port, <see cref="ConnectAsync"/> and <see cref="AssertStillServesAsync"/>, so the same cases run on every host.
/// </summary>
public abstract class EchoServerFixture : IAsyncLifetime
{
    /// <summary>The <see cref="VizHtmlOptions.MaxMessageBytes"/> of the limited servers (<c>Limited*EchoServer</c>).</summary>
    public const int LimitedMaxMessageBytes = 64 * 1024;

    // A failing client here never answers the server's close; do not wait long for it.
    private protected static readonly TimeSpan CloseTimeout = TimeSpan.FromMilliseconds(300);

    public abstract EchoHost Host { get; }

    public abstract int Port { get; }

    internal Task<WsWire> ConnectAsync() => WsWire.ConnectAsync(Port);

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

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    public override string ToString() => $"{Host} echo server on port {Port}";
}

/// <summary>The echo server in this process, on <see cref="TestServer"/>'s embedded or standalone host.</summary>
public abstract class InProcessEchoServer(TestHost host, int? maxMessageBytes) : EchoServerFixture
{
    private TestServer? _server;

    public override EchoHost Host => host == TestHost.Standalone ? EchoHost.Standalone : EchoHost.Kestrel;

    public override int Port => (_server ?? throw new InvalidOperationException("The fixture has not started.")).Port;

    public override async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(host, o =>
        {
            o.CloseTimeout = CloseTimeout;
            o.MaxMessageBytes = maxMessageBytes ?? o.MaxMessageBytes;
        });
        _server.Server.OnMessage("echo", e => e.Client.Send("echo", e.Data));
    }

    public override async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The echo server in a Mono process (test/VizHtml.MonoHost's <c>echo</c> scenario, the same handler).</summary>
public abstract class MonoProcessEchoServer(int? maxMessageBytes) : EchoServerFixture
{
    private ProgramUnderTest? _mono;

    public override EchoHost Host => EchoHost.Mono;

    public override int Port => (_mono ?? throw new InvalidOperationException("The fixture has not started.")).Port;

    public override async Task InitializeAsync()
    {
        string[] settings = maxMessageBytes is { } max
            ? [FormattableString.Invariant($"closeTimeoutMs={CloseTimeout.TotalMilliseconds}"), FormattableString.Invariant($"maxMessageBytes={max}")]
            : [FormattableString.Invariant($"closeTimeoutMs={CloseTimeout.TotalMilliseconds}")];
        _mono = await MonoProcess.StartAsync("echo", settings);
    }

    public override async Task DisposeAsync()
    {
        if (_mono is not null)
        {
            Assert.False(_mono.HasExited, "The Mono echo server ended during the tests: " + _mono.Errors);
            await _mono.DisposeAsync();
        }
    }
}

public sealed class KestrelEchoServer() : InProcessEchoServer(TestHost.Embedded, null);

public sealed class StandaloneEchoServer() : InProcessEchoServer(TestHost.Standalone, null);

public sealed class MonoEchoServer() : MonoProcessEchoServer(null);

/// <summary>The echo servers with <see cref="VizHtmlOptions.MaxMessageBytes"/> lowered to <see cref="EchoServerFixture.LimitedMaxMessageBytes"/>.</summary>
public sealed class LimitedKestrelEchoServer() : InProcessEchoServer(TestHost.Embedded, LimitedMaxMessageBytes);

public sealed class LimitedStandaloneEchoServer() : InProcessEchoServer(TestHost.Standalone, LimitedMaxMessageBytes);

public sealed class LimitedMonoEchoServer() : MonoProcessEchoServer(LimitedMaxMessageBytes);

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
