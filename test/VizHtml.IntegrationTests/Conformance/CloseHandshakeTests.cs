using System.Net.Sockets;
using Xunit.Abstractions;

namespace VizHtml.IntegrationTests.Conformance;

/// <summary>RFC 6455 sections 5.5.1, 7 and 7.4 (Autobahn category 7 "close handling").</summary>
public abstract class CloseHandshakeTests<TServer>(TServer server, ITestOutputHelper output) : IClassFixture<TServer>
    where TServer : EchoServerFixture
{
    /// <summary>
    /// Section 5.5.1: the server answers a close with a close, "typically echo[ing] the status code it received", then
    /// (section 7.1.1) closes the TCP connection first.
    /// </summary>
    [Fact]
    public async Task CloseWith1000AndReasonIsAnsweredWith1000AndTcpClose()
    {
        using var ws = await server.ConnectAsync();

        await ws.SendFrameAsync(Opcode.Close, FrameWriter.ClosePayload(1000, "bye now"));

        var close = await ws.ReadUntilCloseAsync();
        Assert.NotNull(close);
        Assert.Equal(1000, close.CloseCode);
        var end = await ws.ExpectTcpEndAsync();
        Assert.Equal(TcpEnd.Eof, end);
    }

    /// <summary>
    /// A close without a payload (section 5.5.1: "there is no requirement ... to include a body"). The answer is a
    /// close frame; it may be empty or carry 1000, but never 1005, which section 7.4.1 says "MUST NOT be set as a
    /// status code in a Close control frame by an endpoint".
    /// </summary>
    [Fact]
    public async Task CloseWithoutPayloadIsAnsweredWithCloseThatCarriesNo1005()
    {
        using var ws = await server.ConnectAsync();

        await ws.SendFrameAsync(Opcode.Close, []);

        var close = await ws.ReadUntilCloseAsync();
        Assert.NotNull(close);
        output.WriteLine($"answer to an empty close: {close}");
        Assert.True(close.Payload.Length == 0 || close.CloseCode == 1000, $"Expected an empty close or 1000, got {close}");
        Assert.Equal(TcpEnd.Eof, await ws.ExpectTcpEndAsync());
        await server.AssertStillServesAsync();
    }

    /// <summary>Section 5.5.1: a close body starts with a 2-byte code, so a 1-byte body is malformed.</summary>
    [Fact]
    public async Task CloseWithOneBytePayloadFailsWith1002()
    {
        using var ws = await server.ConnectAsync();

        await ws.SendFrameAsync(Opcode.Close, [0x03]);

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>
    /// Section 7.4: 0-999 are not used; 1004 is reserved; 1005, 1006 and 1015 must never be sent; 1016-2999 are
    /// reserved for future protocol versions (only IANA-registered ones are in use); 5000+ is not defined. Receiving
    /// one is a protocol error (Autobahn 7.9.x).
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(1016)]
    [InlineData(1100)]
    [InlineData(2000)]
    [InlineData(2999)]
    [InlineData(5000)]
    [InlineData(65535)]
    public async Task CloseWithInvalidCodeFailsWith1002(int code)
    {
        using var ws = await server.ConnectAsync();

        await ws.SendFrameAsync(Opcode.Close, FrameWriter.ClosePayload(code));

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>Defined (1000-1003, 1007-1011), IANA-registered (1012-1014), library (3000-3999) and private (4000-4999) codes are echoed.</summary>
    [Theory]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(1002)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1008)]
    [InlineData(1009)]
    [InlineData(1010)]
    [InlineData(1011)]
    [InlineData(1012)]
    [InlineData(1013)]
    [InlineData(1014)]
    [InlineData(3000)]
    [InlineData(3999)]
    [InlineData(4000)]
    [InlineData(4999)]
    public async Task CloseWithValidCodeIsEchoed(int code)
    {
        using var ws = await server.ConnectAsync();

        await ws.SendFrameAsync(Opcode.Close, FrameWriter.ClosePayload(code, "reason"));

        var expected = HostDifferences.AnswerToCloseCode(server.Host, code);
        var close = await ws.ReadUntilCloseAsync();
        Assert.True(close?.CloseCode == expected, $"Expected close {expected} (for {code}), got {close?.ToString() ?? "no close frame"}");
        Assert.Equal(TcpEnd.Eof, await ws.ExpectTcpEndAsync());
    }

    /// <summary>The longest reason that fits a control frame (125 - 2 = 123 bytes, Autobahn 7.3.5) is accepted.</summary>
    [Fact]
    public async Task CloseWithLongestReasonIsEchoed()
    {
        using var ws = await server.ConnectAsync();

        await ws.SendFrameAsync(Opcode.Close, FrameWriter.ClosePayload(1000, new string('r', 123)));

        await ws.ExpectCloseAsync(1000);
    }

    /// <summary>
    /// Section 5.5.1: the reason is UTF-8; section 8.1 makes invalid UTF-8 a failure. The RFC names no code for
    /// this case; 1002 (malformed frame) or 1007 (invalid data) are both accepted.
    /// </summary>
    [Theory]
    [InlineData("CE BA E1 BD B9 CF 83 CE BC CE B5 ED A0 80 65 64 69 74 65 64")]
    [InlineData("C0 AF")]
    [InlineData("FF")]
    [InlineData("E2 82")]
    public async Task CloseReasonWithInvalidUtf8FailsWith1002Or1007(string hex)
    {
        using var ws = await server.ConnectAsync();

        await ws.SendFrameAsync(Opcode.Close, FrameWriter.ClosePayload(1000, Envelope.Hex(hex)));

        var close = await ws.ExpectCloseAsync(1002, 1007);
        output.WriteLine($"invalid UTF-8 reason {hex}: {close}");
        await server.AssertStillServesAsync();
    }

    /// <summary>
    /// Section 5.5.1: after a close the peer sends no more data, and section 1.4 ("discards any further data") means a
    /// frame that still arrives is ignored: no echo, no pong, and the handshake completes with 1000.
    /// </summary>
    [Theory]
    [MemberData(nameof(CloseHandshakeCases.FramesAfterClose), MemberType = typeof(CloseHandshakeCases))]
    public async Task FrameAfterCloseIsIgnored(string name, byte[] after)
    {
        Assert.NotEmpty(name);
        using var ws = await server.ConnectAsync();

        await ws.SendAsync(FrameWriter.Concat(FrameWriter.Frame(Opcode.Close, FrameWriter.ClosePayload(1000)), after));

        var close = await ws.ReadUntilCloseAsync();
        Assert.True(close?.CloseCode == 1000, $"Expected close 1000, got {close?.ToString() ?? "no close frame"}");
        var end = await ws.ExpectTcpEndAsync();
        output.WriteLine($"TCP end after the handshake: {end}");
    }

    /// <summary>
    /// Section 5.4/5.5: a close may arrive between the fragments of a message (Autobahn 7.1.5). The message is then
    /// incomplete and never delivered; the close is answered normally.
    /// </summary>
    [Fact]
    public async Task CloseBetweenFragmentsIsAnswered()
    {
        using var ws = await server.ConnectAsync();
        var message = Envelope.Echo("never completed");

        await ws.SendAsync(FrameWriter.Concat(
            FrameWriter.Frame(Opcode.Text, message.AsSpan(0, 10), fin: false),
            FrameWriter.Frame(Opcode.Close, FrameWriter.ClosePayload(1000)),
            FrameWriter.Frame(Opcode.Continuation, message.AsSpan(10))));

        var close = await ws.ReadUntilCloseAsync();
        Assert.True(close?.CloseCode == 1000, $"Expected close 1000, got {close?.ToString() ?? "no close frame"}");
        await ws.ExpectTcpEndAsync();
    }

    /// <summary>The server's own close (after a client close) is a single unfragmented frame and nothing follows it.</summary>
    [Fact]
    public async Task ClientCloseAfterTrafficCompletesHandshake()
    {
        using var ws = await server.ConnectAsync();
        await ws.SendTextAsync(Envelope.Echo("traffic first"));
        await ws.ExpectEchoAsync("traffic first");

        await ws.SendFrameAsync(Opcode.Close, FrameWriter.ClosePayload(1001, "going away"));

        await ws.ExpectCloseAsync(1001);
    }

    /// <summary>
    /// When the server fails a connection, its close frame must reach the client (docs/protocol.md promises the
    /// code; section 7.1.7 says the endpoint SHOULD send it), and section 7.1.1 has the server then "initiate a TCP
    /// Close" (an orderly FIN, not an abortive reset, which discards unsent data). Thirty connections per kind make a
    /// lost frame show up reliably.
    /// </summary>
    [Theory]
    [MemberData(nameof(CloseHandshakeCases.ServerInitiatedFailures), MemberType = typeof(CloseHandshakeCases))]
    public async Task ServerFailingTheConnectionAlwaysDeliversItsCloseFrame(string name, byte[] frame, int code)
    {
        Assert.NotEmpty(name);
        const int attempts = 30;
        var lost = 0;
        var resets = 0;
        for (var batch = 0; batch < attempts / 10; batch++)
        {
            var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
            {
                using var ws = await server.ConnectAsync();
                await ws.SendAsync(frame);
                try
                {
                    var close = await ws.ReadUntilCloseAsync();
                    Assert.True(close?.CloseCode == code, $"Expected close {code}, got {close?.ToString() ?? "no close frame"}");
                    return await ws.ExpectTcpEndAsync() == TcpEnd.Reset ? "reset after close" : "orderly";
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
                {
                    return "reset, close frame lost";
                }
            }));
            lost += outcomes.Count(o => o == "reset, close frame lost");
            resets += outcomes.Count(o => o.StartsWith("reset", StringComparison.Ordinal));
        }

        output.WriteLine($"{name}: {lost} of {attempts} close frames lost, {resets} of {attempts} connections reset; lost elsewhere in this run: {KnownFindings.LostServerCloseFrames}");
        // The close frame must always arrive. How TCP ends afterwards (FIN, or RST because the failing client's own bytes
        // were left unread) is reported in the output, not asserted: RFC 6455 only asks that the server close TCP first.
        Assert.True(lost == 0, $"{lost} of {attempts} close frames never arrived (the server reset the connection first); {resets} of {attempts} ended with a reset.");
        await server.AssertStillServesAsync();
    }
}

/// <summary>The theory data of <see cref="CloseHandshakeTests{TServer}"/> (static members stay out of the generic class).</summary>
public static class CloseHandshakeCases
{
    public static TheoryData<string, byte[]> FramesAfterClose() => new()
    {
        { "text", FrameWriter.Frame(Opcode.Text, Envelope.Echo("after close")) },
        { "ping", FrameWriter.Frame(Opcode.Ping, "after close"u8) },
        { "fragment", FrameWriter.Frame(Opcode.Text, Envelope.Echo("after close"), fin: false) },
        { "second close", FrameWriter.Frame(Opcode.Close, FrameWriter.ClosePayload(1001)) },
    };

    public static TheoryData<string, byte[], int> ServerInitiatedFailures() => new()
    {
        { "reserved opcode", FrameWriter.Frame(3, []), 1002 },
        { "binary message", FrameWriter.Frame(Opcode.Binary, "b"u8), 1003 },
        { "invalid UTF-8", FrameWriter.Frame(Opcode.Text, Envelope.Raw(Envelope.Hex("ED A0 80"))), 1007 },
    };
}

public sealed class CloseHandshakeTestsOnKestrel(KestrelEchoServer server, ITestOutputHelper output) : CloseHandshakeTests<KestrelEchoServer>(server, output);

public sealed class CloseHandshakeTestsOnStandalone(StandaloneEchoServer server, ITestOutputHelper output) : CloseHandshakeTests<StandaloneEchoServer>(server, output);

public sealed class CloseHandshakeTestsOnMono(MonoEchoServer server, ITestOutputHelper output) : CloseHandshakeTests<MonoEchoServer>(server, output);
