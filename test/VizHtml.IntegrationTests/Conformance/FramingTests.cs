using System.Text;
using Xunit.Abstractions;

namespace VizHtml.IntegrationTests.Conformance;

/// <summary>RFC 6455 section 5.1-5.3 (Autobahn categories 1 "framing" and 9 "limits/performance", sizes only).</summary>
public sealed class FramingTests(EchoServerFixture server, ITestOutputHelper output) : IClassFixture<EchoServerFixture>
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

    /// <summary>Section 5.1: "The server MUST close the connection upon receiving a frame that is not masked" (with 1002, section 7.4.1).</summary>
    [Theory]
    [InlineData(Opcode.Text)]
    [InlineData(Opcode.Ping)]
    [InlineData(Opcode.Close)]
    public async Task UnmaskedClientFrameFailsWith1002(byte opcode)
    {
        using var ws = await server.ConnectAsync();
        var payload = opcode switch
        {
            Opcode.Text => Envelope.Echo("unmasked"),
            Opcode.Close => FrameWriter.ClosePayload(1000),
            _ => "unmasked"u8.ToArray(),
        };

        await ws.SendFrameAsync(opcode, payload, masked: false);

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
