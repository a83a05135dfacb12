using System.Text;
using Xunit.Abstractions;

namespace VizHtml.IntegrationTests.Conformance;

/// <summary>RFC 6455 section 5.1-5.3 (Autobahn categories 1 "framing" and 9 "limits/performance", sizes only).</summary>
public abstract class FramingTests<TServer>(TServer server, ITestOutputHelper output) : IClassFixture<TServer>
    where TServer : EchoServerFixture
{
    /// <summary>Each size sits on a boundary of the 7-, 16- and 64-bit length forms (section 5.2).</summary>
    [Theory]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(127)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(1 << 20)]
    public async Task TextMessageOfExactLengthIsEchoedExactly(int length)
    {
        using var ws = await server.ConnectAsync();
        var message = Envelope.OfLength(length);
        Assert.Equal(length, message.Length);

        await ws.SendTextAsync(message);

        await ws.ExpectEchoAsync(Envelope.PaddingFor(length));
    }

    /// <summary>
    /// A zero-length text message is a valid WebSocket message but not JSON: docs/protocol.md promises an
    /// <c>$error</c> event with code <c>invalid_json</c> and an open connection. The echo sent right after it must
    /// then arrive as a separate message.
    /// </summary>
    [Fact]
    public async Task EmptyTextMessageGetsInvalidJsonErrorAndIsNotMergedWithTheNext()
    {
        using var ws = await server.ConnectAsync();

        await ws.SendAsync(FrameWriter.Concat(
            FrameWriter.Frame(Opcode.Text, []),
            FrameWriter.Frame(Opcode.Text, Envelope.Echo("after the empty message"))));

        var (name, data) = await ws.ReceiveEnvelopeAsync();
        Assert.True(name == "$error", $"Expected $error for the empty message, got '{name}' {data?.ToJsonString()}: the empty message was lost.");
        Assert.Equal("invalid_json", data!["code"]!.GetValue<string>());
        await ws.ExpectEchoAsync("after the empty message");
    }

    /// <summary>
    /// Section 5.2: "the minimal number of bytes MUST be used to encode the length". That binds the sender; the RFC
    /// does not say a receiver must reject a non-minimal length, so either outcome is conformant. The observed one is
    /// written to the test output and documented in README.md.
    /// </summary>
    [Theory]
    [InlineData(LengthEncoding.Extended16)]
    [InlineData(LengthEncoding.Extended64)]
    public async Task NonMinimalPayloadLengthIsAcceptedOrFailedWith1002(LengthEncoding encoding)
    {
        using var ws = await server.ConnectAsync();
        const string data = "non-minimal length";

        await ws.SendFrameAsync(Opcode.Text, Envelope.Echo(data), length: encoding);

        var frame = await ws.ReadFrameAsync();
        Assert.NotNull(frame);
        if (frame.Opcode == Opcode.Close)
        {
            Assert.Equal(1002, frame.CloseCode);
            output.WriteLine($"{encoding} length for a {Envelope.Echo(data).Length}-byte payload: failed with 1002");
            await ws.ExpectTcpEndAsync();
            await server.AssertStillServesAsync();
        }
        else
        {
            Assert.Equal(Opcode.Text, frame.Opcode);
            Assert.Contains(data, Encoding.UTF8.GetString(frame.Payload), StringComparison.Ordinal);
            output.WriteLine($"{encoding} length for a {Envelope.Echo(data).Length}-byte payload: accepted and echoed");
        }
    }

    /// <summary>Section 5.2: in the 64-bit form "the most significant bit MUST be 0".</summary>
    [Fact]
    public async Task SixtyFourBitLengthWithMostSignificantBitSetFailsWith1002()
    {
        using var ws = await server.ConnectAsync();
        var payload = Envelope.Echo("x");

        await ws.SendAsync(FrameWriter.Frame(Opcode.Text, payload, length: LengthEncoding.Extended64, declaredLength: 0x8000_0000_0000_0000UL + (uint)payload.Length));

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>
    /// Section 5.1: "The server MUST close the connection upon receiving a frame that is not masked" (with 1002,
    /// section 7.4.1). The short cases are complete frames of fewer than 6 bytes (no mask key to wait for).
    /// </summary>
    [Theory]
    [InlineData(Opcode.Text, 40)]
    [InlineData(Opcode.Ping, 8)]
    [InlineData(Opcode.Close, 9)]
    public async Task UnmaskedClientFrameFailsWith1002(byte opcode, int payloadLength)
    {
        using var ws = await server.ConnectAsync();
        var payload = opcode switch
        {
            Opcode.Text => Envelope.OfLength(payloadLength),
            Opcode.Close => FrameWriter.ClosePayload(1000, new string('r', payloadLength - 2)),
            _ => new byte[payloadLength],
        };

        await ws.SendFrameAsync(opcode, payload, masked: false);

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>
    /// A known deviation of .NET's WebSocket implementation (not VizHtml's code): it reads 2 + 4 header bytes (assuming a
    /// mask key) before it looks at the mask bit, so an unmasked frame shorter than 6 bytes is failed only once more bytes
    /// arrive. RFC 6455 section 5.1 says the server MUST fail it at once. This test pins the observed behaviour, so a
    /// runtime fix shows up here; docs/protocol.md lists the deviation.
    /// </summary>
    [Fact]
    public async Task ShortUnmaskedFrameIsFailedWith1002OnceTheNextBytesArrive()
    {
        using var ws = await server.ConnectAsync();
        await ws.SendFrameAsync(Opcode.Close, FrameWriter.ClosePayload(1000, string.Empty), masked: false);
        await ws.SendAsync(new byte[] { 0, 0, 0, 0 });

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>Many small messages in one TCP write are each delivered once, in order (Autobahn 1.x, 9.x in miniature).</summary>
    [Fact]
    public async Task BackToBackMessagesInOneWriteAreEchoedInOrder()
    {
        using var ws = await server.ConnectAsync();
        var texts = Enumerable.Range(0, 50).Select(i => $"message {i}").ToArray();

        await ws.SendAsync(FrameWriter.Concat(texts.Select(t => FrameWriter.Frame(Opcode.Text, Envelope.Echo(t)))));

        foreach (var text in texts)
        {
            await ws.ExpectEchoAsync(text);
        }
    }
}

public sealed class FramingTestsOnKestrel(KestrelEchoServer server, ITestOutputHelper output) : FramingTests<KestrelEchoServer>(server, output);

public sealed class FramingTestsOnStandalone(StandaloneEchoServer server, ITestOutputHelper output) : FramingTests<StandaloneEchoServer>(server, output);

public sealed class FramingTestsOnMono(MonoEchoServer server, ITestOutputHelper output) : FramingTests<MonoEchoServer>(server, output);
