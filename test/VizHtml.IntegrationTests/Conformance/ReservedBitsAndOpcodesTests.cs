namespace VizHtml.IntegrationTests.Conformance;

/// <summary>RFC 6455 section 5.2 (Autobahn categories 3 "reserved bits" and 4 "opcodes").</summary>
public abstract class ReservedBitsAndOpcodesTests<TServer>(TServer server) : IClassFixture<TServer>
    where TServer : EchoServerFixture
{
    /// <summary>
    /// "RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated ... If a nonzero value is received and none of
    /// the negotiated extensions defines the meaning of such a nonzero value, the receiving endpoint MUST _Fail the
    /// WebSocket Connection_." No extension is ever negotiated here (checked by the handshake).
    /// </summary>
    [Theory]
    [InlineData(4, Opcode.Text)]
    [InlineData(2, Opcode.Text)]
    [InlineData(1, Opcode.Text)]
    [InlineData(6, Opcode.Text)]
    [InlineData(5, Opcode.Text)]
    [InlineData(3, Opcode.Text)]
    [InlineData(7, Opcode.Text)]
    [InlineData(4, Opcode.Binary)]
    [InlineData(3, Opcode.Ping)]
    [InlineData(1, Opcode.Pong)]
    [InlineData(2, Opcode.Close)]
    public async Task ReservedBitsWithoutExtensionFailWith1002(int rsv, byte opcode)
    {
        using var ws = await server.ConnectAsync();
        var payload = opcode switch
        {
            Opcode.Text => Envelope.Echo("rsv"),
            Opcode.Close => FrameWriter.ClosePayload(1000),
            _ => "rsv"u8.ToArray(),
        };

        await ws.SendFrameAsync(opcode, payload, rsv: rsv);

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>An RSV bit on the continuation frame of an otherwise valid fragmented message.</summary>
    [Fact]
    public async Task ReservedBitOnContinuationFrameFailsWith1002()
    {
        using var ws = await server.ConnectAsync();
        var message = Envelope.Echo("rsv on a continuation");

        await ws.SendAsync(FrameWriter.Concat(
            FrameWriter.Frame(Opcode.Text, message.AsSpan(0, 10), fin: false),
            FrameWriter.Frame(Opcode.Continuation, message.AsSpan(10), rsv: 4)));

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>
    /// Section 5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
    /// A valid message goes first and must still be answered; then the reserved frame fails the connection.
    /// </summary>
    [Theory]
    [MemberData(nameof(ReservedBitsAndOpcodesCases.ReservedOpcodes), MemberType = typeof(ReservedBitsAndOpcodesCases))]
    public async Task ReservedOpcodeFailsWith1002(byte opcode, int payloadLength)
    {
        using var ws = await server.ConnectAsync();
        await ws.SendTextAsync(Envelope.Echo("before the reserved opcode"));
        await ws.ExpectEchoAsync("before the reserved opcode");

        await ws.SendFrameAsync(opcode, new byte[payloadLength]);

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }
}

/// <summary>The theory data of <see cref="ReservedBitsAndOpcodesTests{TServer}"/> (static members stay out of the generic class).</summary>
public static class ReservedBitsAndOpcodesCases
{
    public static TheoryData<byte, int> ReservedOpcodes()
    {
        var data = new TheoryData<byte, int>();
        foreach (var opcode in new byte[] { 3, 4, 5, 6, 7, 11, 12, 13, 14, 15 })
        {
            data.Add(opcode, 0);
            data.Add(opcode, 8);
        }

        return data;
    }
}

public sealed class ReservedBitsAndOpcodesTestsOnKestrel(KestrelEchoServer server) : ReservedBitsAndOpcodesTests<KestrelEchoServer>(server);

public sealed class ReservedBitsAndOpcodesTestsOnStandalone(StandaloneEchoServer server) : ReservedBitsAndOpcodesTests<StandaloneEchoServer>(server);

public sealed class ReservedBitsAndOpcodesTestsOnMono(MonoEchoServer server) : ReservedBitsAndOpcodesTests<MonoEchoServer>(server);
