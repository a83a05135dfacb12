namespace VizHtml.IntegrationTests.Conformance;

/// <summary>
/// Message size limit (RFC 6455 section 10.4 lets an endpoint limit frame and message sizes; section 7.4.1 assigns
/// 1009 "message too big"). docs/protocol.md: larger than <c>MaxMessageBytes</c>, counted across fragments → 1009.
/// The server here has MaxMessageBytes = 64 KiB.
/// </summary>
public abstract class LimitTests<TServer>(TServer server) : IClassFixture<TServer>
    where TServer : EchoServerFixture
{
    private const int Max = EchoServerFixture.LimitedMaxMessageBytes;

    /// <summary>A message of exactly MaxMessageBytes is not "larger than" the limit: it is delivered.</summary>
    [Theory]
    [MemberData(nameof(LimitCases.AtTheLimit), MemberType = typeof(LimitCases))]
    public async Task MessageOfExactlyMaxMessageBytesIsDelivered(string name, int[] sizes)
    {
        Assert.NotEmpty(name);
        using var ws = await server.ConnectAsync();
        var message = Envelope.OfLength(Max);

        await ws.SendAsync(sizes.Length == 0 ? FrameWriter.Frame(Opcode.Text, message) : FrameWriter.Fragmented(Opcode.Text, message, sizes));

        await ws.ExpectEchoAsync(Envelope.PaddingFor(Max));
    }

    /// <summary>
    /// Over the limit → close 1009, whether in one frame or in many fragments. The client keeps sending in the
    /// background (the server may stop reading and reset), so the test only awaits the close.
    /// </summary>
    [Theory]
    [MemberData(nameof(LimitCases.OverTheLimit), MemberType = typeof(LimitCases))]
    public async Task MessageLargerThanMaxMessageBytesIsClosedWith1009(string name, int length, int fragmentSize)
    {
        Assert.NotEmpty(name);
        using var ws = await server.ConnectAsync();
        var message = Envelope.OfLength(length);
        var bytes = fragmentSize == 0 ? FrameWriter.Frame(Opcode.Text, message) : FrameWriter.Chunked(Opcode.Text, message, fragmentSize);

        var sending = ws.SendIgnoringPeerCloseAsync(bytes);

        await ws.ExpectCloseAsync(1009);
        await sending;
        await server.AssertStillServesAsync();
    }

    /// <summary>
    /// A frame announcing 1 MiB of which only MaxMessageBytes + 1 bytes are sent. The server must answer 1009 as soon
    /// as the limit is passed, without waiting for (or buffering) the rest of the announced payload.
    /// </summary>
    [Fact]
    public async Task OversizedFrameIsRejectedBeforeItsPayloadIsComplete()
    {
        using var ws = await server.ConnectAsync();
        var sent = Envelope.OfLength(Max + 1);

        var frame = FrameWriter.Frame(Opcode.Text, sent, declaredLength: 1 << 20);
        await ws.SendIgnoringPeerCloseAsync(frame);

        await ws.ExpectCloseAsync(1009);
        await server.AssertStillServesAsync();
    }

    /// <summary>The limit is per message: many messages that are each under it are all delivered.</summary>
    [Fact]
    public async Task MessagesUnderTheLimitAddingUpToMoreThanItAreDelivered()
    {
        using var ws = await server.ConnectAsync();
        var data = Envelope.PaddingFor(Max / 2);

        await ws.SendAsync(FrameWriter.Concat(Enumerable.Range(0, 4).Select(_ => FrameWriter.Frame(Opcode.Text, Envelope.OfLength(Max / 2)))));

        for (var i = 0; i < 4; i++)
        {
            await ws.ExpectEchoAsync(data);
        }
    }
}

/// <summary>The theory data of <see cref="LimitTests{TServer}"/> (static members stay out of the generic class).</summary>
public static class LimitCases
{
    private const int Max = EchoServerFixture.LimitedMaxMessageBytes;

    public static TheoryData<string, int[]> AtTheLimit() => new()
    {
        { "one frame", [] },
        { "1 KiB fragments", Enumerable.Repeat(1024, Max / 1024).ToArray() },
        { "uneven fragments", [1, 4095, 4096, 30000, 27344] },
        { "the full message, then an empty final fragment", [Max, 0] },
    };

    public static TheoryData<string, int, int> OverTheLimit() => new()
    {
        { "one byte over, one frame", Max + 1, 0 },
        { "one byte over, 1 KiB fragments", Max + 1, 1024 },
        { "one byte over, 1-byte final fragment", Max + 1, Max },
        { "1 MiB, one frame", 1 << 20, 0 },
        { "1 MiB, 4 KiB fragments", 1 << 20, 4096 },
    };
}

public sealed class LimitTestsOnKestrel(LimitedKestrelEchoServer server) : LimitTests<LimitedKestrelEchoServer>(server);

public sealed class LimitTestsOnStandalone(LimitedStandaloneEchoServer server) : LimitTests<LimitedStandaloneEchoServer>(server);

public sealed class LimitTestsOnMono(LimitedMonoEchoServer server) : LimitTests<LimitedMonoEchoServer>(server);
