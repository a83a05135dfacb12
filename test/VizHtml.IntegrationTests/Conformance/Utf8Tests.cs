using System.Text;

namespace VizHtml.IntegrationTests.Conformance;

/// <summary>
/// RFC 6455 section 5.6 and 8.1 (Autobahn category 6 "UTF-8 handling"): a text message is UTF-8 (RFC 3629), and an
/// endpoint that finds otherwise "MUST _Fail the WebSocket Connection_" with 1007 (section 7.4.1).
/// </summary>
public abstract class Utf8Tests<TServer>(TServer server) : IClassFixture<TServer>
    where TServer : EchoServerFixture
{
    /// <summary>Valid characters of each encoded length, and the boundaries of each length class.</summary>
    [Theory]
    [InlineData("ß")]
    [InlineData("€")]
    [InlineData("😀")]
    [InlineData("Hello-µ@ßöäüàá-UTF-8!! κόσμε 日本語 𝄞")]
    [InlineData("\u0080")]
    [InlineData("\u07FF")]
    [InlineData("\u0800")]
    [InlineData("\uD7FF")]
    [InlineData("\uE000")]
    [InlineData("\uFFFD")]
    [InlineData("\uFFFF")]
    [InlineData("\U00010000")]
    [InlineData("\U0010FFFF")]
    public async Task ValidMultiByteTextIsEchoedExactly(string data)
    {
        using var ws = await server.ConnectAsync();

        await ws.SendTextAsync(Envelope.Echo(data));

        await ws.ExpectEchoAsync(data);
    }

    /// <summary>Invalid UTF-8 inside the data string of an otherwise valid envelope.</summary>
    [Theory]
    [InlineData("lone continuation byte", "80")]
    [InlineData("lone continuation byte BF", "BF")]
    [InlineData("overlong '/' in 2 bytes", "C0 AF")]
    [InlineData("overlong '/' in 3 bytes", "E0 80 AF")]
    [InlineData("overlong '/' in 4 bytes", "F0 80 80 AF")]
    [InlineData("overlong NUL", "C0 80")]
    [InlineData("overlong U+007F", "C1 BF")]
    [InlineData("overlong U+07FF in 3 bytes", "E0 9F BF")]
    [InlineData("overlong U+FFFF in 4 bytes", "F0 8F BF BF")]
    [InlineData("surrogate U+D800", "ED A0 80")]
    [InlineData("surrogate U+DBFF", "ED AF BF")]
    [InlineData("surrogate U+DC00", "ED B0 80")]
    [InlineData("surrogate U+DFFF", "ED BF BF")]
    [InlineData("surrogate pair U+D800 U+DC00 encoded separately", "ED A0 80 ED B0 80")]
    [InlineData("code point above U+10FFFF", "F4 90 80 80")]
    [InlineData("byte F5", "F5 80 80 80")]
    [InlineData("byte F8 (5-byte form)", "F8 88 80 80 80")]
    [InlineData("byte FC (6-byte form)", "FC 84 80 80 80 80")]
    [InlineData("byte FE", "FE")]
    [InlineData("byte FF", "FF")]
    [InlineData("2-byte lead followed by ASCII", "C3 41")]
    [InlineData("3-byte lead, one continuation, then ASCII", "E2 82 41")]
    [InlineData("valid text then a surrogate", "CE BA E1 BD B9 CF 83 CE BC CE B5 ED A0 80 65 64 69 74 65 64")]
    public async Task InvalidUtf8FailsWith1007(string name, string hex)
    {
        Assert.NotEmpty(name);
        using var ws = await server.ConnectAsync();

        await ws.SendTextAsync(Envelope.Raw(Envelope.Hex(hex)));

        await ws.ExpectCloseAsync(1007);
        await server.AssertStillServesAsync();
    }

    /// <summary>The message ends in the middle of a multi-byte sequence.</summary>
    [Theory]
    [InlineData("C3")]
    [InlineData("E2")]
    [InlineData("E2 82")]
    [InlineData("F0")]
    [InlineData("F0 9F 98")]
    public async Task SequenceTruncatedAtMessageEndFailsWith1007(string hex)
    {
        using var ws = await server.ConnectAsync();

        await ws.SendTextAsync(Envelope.Truncated(Envelope.Hex(hex)));

        await ws.ExpectCloseAsync(1007);
        await server.AssertStillServesAsync();
    }

    /// <summary>The same, with the truncated sequence at the end of the final fragment of a fragmented message.</summary>
    [Fact]
    public async Task SequenceTruncatedAtEndOfFinalFragmentFailsWith1007()
    {
        using var ws = await server.ConnectAsync();
        var message = Envelope.Truncated(Envelope.Hex("41 E2 82"));

        await ws.SendAsync(FrameWriter.Fragmented(Opcode.Text, message, [10]));

        await ws.ExpectCloseAsync(1007);
        await server.AssertStillServesAsync();
    }

    /// <summary>
    /// Section 5.6 validates the message, not each frame: a code point split between two fragments is valid
    /// (Autobahn 6.2.2-6.2.4). The split falls at every byte offset of <c>"€😀ß"</c>.
    /// </summary>
    [Theory]
    [MemberData(nameof(Utf8Cases.SplitOffsets), MemberType = typeof(Utf8Cases))]
    public async Task CodePointSplitAcrossFragmentsIsAccepted(int offsetInData)
    {
        using var ws = await server.ConnectAsync();
        var message = Envelope.Echo(Utf8Cases.SplitData);
        var prefix = Envelope.Raw([]).Length - 2;

        await ws.SendAsync(FrameWriter.Fragmented(Opcode.Text, message, [prefix + offsetInData]));

        await ws.ExpectEchoAsync(Utf8Cases.SplitData);
    }

    /// <summary>Every byte of multi-byte text in its own fragment (Autobahn 6.2.4).</summary>
    [Fact]
    public async Task MultiByteTextInOneByteFragmentsIsAccepted()
    {
        using var ws = await server.ConnectAsync();
        const string data = "κόσμε €😀 𝄞";
        var message = Envelope.Echo(data);

        await ws.SendAsync(FrameWriter.Chunked(Opcode.Text, message, 1));

        await ws.ExpectEchoAsync(data);
    }

    /// <summary>An invalid sequence whose bytes are spread over two fragments is still invalid.</summary>
    [Fact]
    public async Task SurrogateSplitAcrossFragmentsFailsWith1007()
    {
        using var ws = await server.ConnectAsync();
        var message = Envelope.Raw(Envelope.Hex("ED A0 80"));
        var prefix = Envelope.Raw([]).Length - 2;

        await ws.SendAsync(FrameWriter.Fragmented(Opcode.Text, message, [prefix + 2]));

        await ws.ExpectCloseAsync(1007);
        await server.AssertStillServesAsync();
    }

    /// <summary>
    /// Invalid UTF-8 in the first fragment while the rest of the message never comes. Section 8.1 does not say when
    /// the failure must happen; Autobahn (6.4.x) checks that a server fails fast rather than waiting for the end.
    /// This asserts the observed fail-fast behaviour.
    /// </summary>
    [Fact]
    public async Task InvalidUtf8InFirstFragmentFailsWithoutWaitingForTheRest()
    {
        using var ws = await server.ConnectAsync();

        await ws.SendFrameAsync(Opcode.Text, Envelope.Truncated(Envelope.Hex("CE BA ED A0 80 65")), fin: false);

        await ws.ExpectCloseAsync(1007);
        await server.AssertStillServesAsync();
    }
}

/// <summary>The theory data of <see cref="Utf8Tests{TServer}"/> (static members stay out of the generic class).</summary>
public static class Utf8Cases
{
    /// <summary>The text split at every byte offset.</summary>
    public const string SplitData = "€😀ß";

    public static TheoryData<int> SplitOffsets()
    {
        var data = new TheoryData<int>();
        for (var offset = 1; offset < Encoding.UTF8.GetByteCount(Utf8Cases.SplitData); offset++)
        {
            data.Add(offset);
        }

        return data;
    }
}

public sealed class Utf8TestsOnKestrel(KestrelEchoServer server) : Utf8Tests<KestrelEchoServer>(server);

public sealed class Utf8TestsOnStandalone(StandaloneEchoServer server) : Utf8Tests<StandaloneEchoServer>(server);

public sealed class Utf8TestsOnMono(MonoEchoServer server) : Utf8Tests<MonoEchoServer>(server);
