namespace VizHtml.IntegrationTests.Conformance;

/// <summary>RFC 6455 section 5.4 (Autobahn category 5 "fragmentation") and VizHtml's text-only rule.</summary>
public abstract class FragmentationTests<TServer>(TServer server) : IClassFixture<TServer>
    where TServer : EchoServerFixture
{
    /// <summary>
    /// A fragmented message is one message: it is delivered once, with its fragments joined in order. A sentinel
    /// echo right after it proves nothing was delivered twice or left over.
    /// </summary>
    [Theory]
    [MemberData(nameof(FragmentationCases.Splits), MemberType = typeof(FragmentationCases))]
    public async Task FragmentedTextMessageIsDeliveredOnce(string name, int[] sizes)
    {
        Assert.NotEmpty(name);
        using var ws = await server.ConnectAsync();

        await ws.SendAsync(FrameWriter.Concat(
            FrameWriter.Fragmented(Opcode.Text, Envelope.Echo(FragmentationCases.Data), sizes),
            FrameWriter.Frame(Opcode.Text, Envelope.Echo("sentinel"))));

        await ws.ExpectEchoAsync(FragmentationCases.Data);
        await ws.ExpectEchoAsync("sentinel");
    }

    /// <summary>A message made only of empty fragments is an empty text message: not JSON, so <c>$error invalid_json</c>.</summary>
    [Fact]
    public async Task MessageOfOnlyEmptyFragmentsGetsInvalidJsonError()
    {
        using var ws = await server.ConnectAsync();

        await ws.SendAsync(FrameWriter.Concat(
            FrameWriter.Frame(Opcode.Text, [], fin: false),
            FrameWriter.Frame(Opcode.Continuation, [], fin: false),
            FrameWriter.Frame(Opcode.Continuation, [], fin: true),
            FrameWriter.Frame(Opcode.Text, Envelope.Echo("sentinel"))));

        var (name, data) = await ws.ReceiveEnvelopeAsync();
        Assert.Equal("$error", name);
        Assert.Equal("invalid_json", data!["code"]!.GetValue<string>());
        await ws.ExpectEchoAsync("sentinel");
    }

    /// <summary>Section 5.4: a continuation frame only continues a message whose first frame had FIN clear.</summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task ContinuationWithoutStartFailsWith1002(bool fin, bool afterCompleteMessage)
    {
        using var ws = await server.ConnectAsync();
        if (afterCompleteMessage)
        {
            await ws.SendTextAsync(Envelope.Echo("complete"));
            await ws.ExpectEchoAsync("complete");
        }

        await ws.SendFrameAsync(Opcode.Continuation, Envelope.Echo("orphan continuation"), fin: fin);

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>Section 5.4: fragments of one message are not interleaved with another message's frames.</summary>
    [Theory]
    [InlineData(Opcode.Text, true)]
    [InlineData(Opcode.Text, false)]
    [InlineData(Opcode.Binary, true)]
    public async Task NewDataFrameWhileAFragmentedMessageIsInProgressFailsWith1002(byte opcode, bool fin)
    {
        using var ws = await server.ConnectAsync();
        var message = Envelope.Echo("interrupted");

        await ws.SendAsync(FrameWriter.Concat(
            FrameWriter.Frame(Opcode.Text, message.AsSpan(0, 10), fin: false),
            FrameWriter.Frame(opcode, Envelope.Echo("intruder"), fin: fin)));

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>
    /// VizHtml's documented behaviour (docs/protocol.md "Errors"): a binary message is closed with 1003. A text echo
    /// follows the binary message; it must never be answered, because the connection ends at the binary message.
    /// </summary>
    [Theory]
    [MemberData(nameof(FragmentationCases.BinaryMessages), MemberType = typeof(FragmentationCases))]
    public async Task BinaryMessageIsClosedWith1003(string name, byte[] frames)
    {
        Assert.NotEmpty(name);
        using var ws = await server.ConnectAsync();

        await ws.SendIgnoringPeerCloseAsync(FrameWriter.Concat(frames, FrameWriter.Frame(Opcode.Text, Envelope.Echo("after binary"))));

        await ws.ExpectCloseAsync(1003);
        await server.AssertStillServesAsync();
    }
}

/// <summary>The theory data of <see cref="FragmentationTests{TServer}"/> (static members stay out of the generic class).</summary>
public static class FragmentationCases
{
    /// <summary>The message every fragmentation case splits.</summary>
    public const string Data = "fragmented message: 0123456789 abcdefghijklmnopqrstuvwxyz";

    public static TheoryData<string, int[]> Splits() => new()
    {
        { "2 fragments", [20] },
        { "10 fragments", [8, 8, 8, 8, 8, 8, 8, 8, 8] },
        { "1-byte fragments", Enumerable.Repeat(1, Envelope.Echo(FragmentationCases.Data).Length).ToArray() },
        { "empty first and last fragments", [0, Envelope.Echo(FragmentationCases.Data).Length, 0] },
        { "empty fragments between", [5, 0, 0, 10, 0] },
    };

    public static TheoryData<string, byte[]> BinaryMessages() => new()
    {
        { "one frame", FrameWriter.Frame(Opcode.Binary, Envelope.Echo("binary")) },
        { "fragmented", FrameWriter.Fragmented(Opcode.Binary, Envelope.Echo("binary"), [5, 5]) },
        { "large", FrameWriter.Frame(Opcode.Binary, new byte[100_000]) },
        { "empty", FrameWriter.Frame(Opcode.Binary, []) },
        { "empty fragments", FrameWriter.Fragmented(Opcode.Binary, [], [0, 0]) },
    };
}

public sealed class FragmentationTestsOnKestrel(KestrelEchoServer server) : FragmentationTests<KestrelEchoServer>(server);

public sealed class FragmentationTestsOnStandalone(StandaloneEchoServer server) : FragmentationTests<StandaloneEchoServer>(server);

public sealed class FragmentationTestsOnMono(MonoEchoServer server) : FragmentationTests<MonoEchoServer>(server);
