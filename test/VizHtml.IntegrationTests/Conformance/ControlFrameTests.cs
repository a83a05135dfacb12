using System.Security.Cryptography;
using Xunit.Abstractions;

namespace VizHtml.IntegrationTests.Conformance;

/// <summary>RFC 6455 section 5.5 (Autobahn category 2 "pings/pongs" and the control-frame cases of category 5).</summary>
public abstract class ControlFrameTests<TServer>(TServer server, ITestOutputHelper output) : IClassFixture<TServer>
    where TServer : EchoServerFixture
{
    /// <summary>Section 5.5.2-5.5.3: a pong answers a ping with "identical Application data".</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(125)]
    public async Task PingIsAnsweredWithPongCarryingTheSamePayload(int length)
    {
        using var ws = await server.ConnectAsync();

        // Arbitrary bytes, not UTF-8: control payloads are application data, not text.
        var payload = RandomNumberGenerator.GetBytes(length);
        await ws.SendFrameAsync(Opcode.Ping, payload);

        var pong = await ws.ReadFrameAsync();
        Assert.NotNull(pong);
        Assert.Equal(Opcode.Pong, pong.Opcode);
        Assert.True(pong.Fin);
        Assert.Equal(payload, pong.Payload);
    }

    /// <summary>Section 5.5: "All control frames MUST have a payload length of 125 bytes or less".</summary>
    [Theory]
    [InlineData(Opcode.Ping, 126)]
    [InlineData(Opcode.Ping, 65536)]
    [InlineData(Opcode.Pong, 126)]
    [InlineData(Opcode.Close, 126)]
    public async Task ControlFrameLongerThan125BytesFailsWith1002(byte opcode, int length)
    {
        using var ws = await server.ConnectAsync();
        var payload = opcode == Opcode.Close ? FrameWriter.ClosePayload(1000, new string('r', length - 2)) : new byte[length];

        await ws.SendIgnoringPeerCloseAsync(FrameWriter.Frame(opcode, payload));

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>Section 5.5: "Control frames themselves MUST NOT be fragmented".</summary>
    [Theory]
    [InlineData(Opcode.Ping)]
    [InlineData(Opcode.Pong)]
    [InlineData(Opcode.Close)]
    public async Task FragmentedControlFrameFailsWith1002(byte opcode)
    {
        using var ws = await server.ConnectAsync();
        var payload = opcode == Opcode.Close ? FrameWriter.ClosePayload(1000) : "frag"u8.ToArray();

        await ws.SendAsync(FrameWriter.Concat(
            FrameWriter.Frame(opcode, payload, fin: false),
            FrameWriter.Frame(Opcode.Continuation, "ment"u8, fin: true)));

        await ws.ExpectCloseAsync(1002);
        await server.AssertStillServesAsync();
    }

    /// <summary>
    /// Section 5.4: "Control frames MAY be injected in the middle of a fragmented message" and the endpoint "MUST be
    /// capable of handling control frames in the middle of a fragmented message".
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task PingBetweenFragmentsIsAnsweredAndTheMessageIsStillDelivered(int pings)
    {
        using var ws = await server.ConnectAsync();
        var message = Envelope.Echo("around the ping");
        var frames = new List<byte[]> { FrameWriter.Frame(Opcode.Text, message.AsSpan(0, 12), fin: false) };
        for (var i = 0; i < pings; i++)
        {
            frames.Add(FrameWriter.Frame(Opcode.Ping, [(byte)i]));
            frames.Add(FrameWriter.Frame(Opcode.Continuation, message.AsSpan(12 + i, 1), fin: false));
        }

        frames.Add(FrameWriter.Frame(Opcode.Continuation, message.AsSpan(12 + pings), fin: true));
        await ws.SendAsync(FrameWriter.Concat(frames));

        for (var i = 0; i < pings; i++)
        {
            var pong = await ws.ReadFrameAsync();
            Assert.True(pong?.Opcode == Opcode.Pong, $"Expected the pong for ping {i}, got {pong}");
            Assert.Equal([(byte)i], pong.Payload);
        }

        await ws.ExpectEchoAsync("around the ping");
    }

    /// <summary>Section 5.5.3: "A Pong frame MAY be sent unsolicited ... A response to an unsolicited Pong frame is not expected."</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    public async Task UnsolicitedPongIsIgnored(int length)
    {
        using var ws = await server.ConnectAsync();

        await ws.SendFrameAsync(Opcode.Pong, new byte[length]);
        await ws.SendTextAsync(Envelope.Echo("after the pong"));

        // The echo must be the very next frame: nothing answered the pong, and the connection is usable.
        var frame = await ws.ReadFrameAsync();
        Assert.True(frame?.Opcode == Opcode.Text, $"Expected the echo right after an unsolicited pong, got {frame}");
    }

    /// <summary>
    /// Ten pings back to back. Section 5.5.3 lets the server answer only the most recent one it has not yet answered
    /// (MAY), so the assertion is: the pongs that come are in order and the last ping is answered.
    /// </summary>
    [Fact]
    public async Task TenPingsInARowAreAnsweredUpToTheLast()
    {
        using var ws = await server.ConnectAsync();
        var payloads = Enumerable.Range(0, 10).Select(i => new[] { (byte)i, (byte)(i * 7) }).ToArray();

        await ws.SendAsync(FrameWriter.Concat(payloads.Select(p => FrameWriter.Frame(Opcode.Ping, p))
            .Append(FrameWriter.Frame(Opcode.Text, Envelope.Echo("after ten pings")))));

        var pongs = new List<byte[]>();
        while (true)
        {
            var frame = await ws.ReadFrameAsync();
            Assert.NotNull(frame);
            if (frame.Opcode == Opcode.Text)
            {
                break;
            }

            Assert.Equal(Opcode.Pong, frame.Opcode);
            pongs.Add(frame.Payload);
        }

        output.WriteLine($"{pongs.Count} pongs for 10 pings");
        Assert.Equal(payloads[^1], pongs[^1]);
        var indexes = pongs.Select(p => p[0]).ToArray();
        Assert.Equal(indexes.Order().Distinct(), indexes);
    }
}

public sealed class ControlFrameTestsOnKestrel(KestrelEchoServer server, ITestOutputHelper output) : ControlFrameTests<KestrelEchoServer>(server, output);

public sealed class ControlFrameTestsOnStandalone(StandaloneEchoServer server, ITestOutputHelper output) : ControlFrameTests<StandaloneEchoServer>(server, output);

public sealed class ControlFrameTestsOnMono(MonoEchoServer server, ITestOutputHelper output) : ControlFrameTests<MonoEchoServer>(server, output);
