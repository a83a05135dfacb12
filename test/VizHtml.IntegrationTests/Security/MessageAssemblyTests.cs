using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using VizHtml.Connections;
using VizHtml.IntegrationTests.Conformance;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Security;

/// <summary>
/// Messages still arriving (assembled from their frames) are bounded in memory, per address and in total, in frames and in
/// time. Raw clients over TCP (<see cref="WsWire"/>); 127.0.0.2 is a second client address on the loopback interface.
/// </summary>
public sealed class MessageAssemblyTests
{
    private const int MaxMessageBytes = 256 * 1024;

    /// <summary>A message of most of <see cref="MaxMessageBytes"/>: four 64 KiB chunks while it arrives.</summary>
    private const int UnfinishedBytes = MaxMessageBytes - 1000;

    private static readonly IPAddress OtherAddress = IPAddress.Parse("127.0.0.2");

    /// <summary>Room for two messages of <see cref="MaxMessageBytes"/> (a third does not fit).</summary>
    private static readonly long TwoMessages = 2 * MessageBuffer.PeakBytes(MaxMessageBytes);

    private static readonly byte[] Message = Envelope.OfLength(MaxMessageBytes);

    [Theory, OnOwnHosts]
    public async Task AMessageThatDoesNotFitInItsAddressShareClosesItsConnectionWith1013AndNoOtherMessageIsHurt(TestHost host)
    {
        await using var test = await StartEchoServerAsync(host, o =>
        {
            o.MaxAssemblyBytesPerAddress = TwoMessages;
            o.MaxAssemblyBytes = 4 * TwoMessages;
        });
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        using var first = await SendUnfinishedAsync(test);
        using var second = await SendUnfinishedAsync(test);

        using var third = await WsWire.ConnectAsync(test.Server.Port);
        await third.SendIgnoringPeerCloseAsync(FrameWriter.Frame(Opcode.Text, Message.AsSpan(0, UnfinishedBytes), fin: false));
        await ExpectTryAgainLaterAsync(third, "server busy: the memory for messages from your address is in use; try again later");
        var busy = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Equal(VizDisconnectReason.ServerBusy, busy.Reason);
        Assert.Equal(1013, busy.CloseStatus);

        // Another address has its own share; the two messages that held this address's share complete; then it is free again.
        using var other = await WsWire.ConnectAsync(test.Server.Port, OtherAddress);
        await other.SendAsync(FrameWriter.Frame(Opcode.Text, Message));
        await other.ExpectEchoAsync(Envelope.PaddingFor(MaxMessageBytes));
        await FinishAsync(first);
        await FinishAsync(second);
        using var later = await WsWire.ConnectAsync(test.Server.Port);
        await later.SendAsync(FrameWriter.Frame(Opcode.Text, Message));
        await later.ExpectEchoAsync(Envelope.PaddingFor(MaxMessageBytes));
    }

    [Theory, OnOwnHosts]
    public async Task AVersion2ClientRefusedWith1013MayResumeItsSession(TestHost host)
    {
        await using var test = await StartEchoServerAsync(host, o =>
        {
            o.MaxAssemblyBytesPerAddress = TwoMessages;
            o.MaxAssemblyBytes = 4 * TwoMessages;
        });
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        using var first = await SendUnfinishedAsync(test);
        using var second = await SendUnfinishedAsync(test);

        // A page (protocol version 2) whose message finds no room: 1013, and its session waits for it.
        using var page = await AwaySessionLimitTests.AwayClient.HelloAsync(test, IPAddress.Loopback);
        await page.Tcp.Socket.SendAsync(FrameWriter.Frame(Opcode.Text, Message.AsSpan(0, UnfinishedBytes), fin: false));
        Assert.Equal(1013, await page.Tcp.ReceiveCloseCodeAsync());
        var busy = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Equal(VizDisconnectReason.ServerBusy, busy.Reason);
        Assert.True(busy.CanResume);

        // Room again: it resumes the same session (a page then resends what the server did not acknowledge).
        await FinishAsync(first);
        await FinishAsync(second);
        using var back = await AwaySessionLimitTests.AwayClient.HelloAsync(test, IPAddress.Loopback, page.Token);
        Assert.True(back.Resumed);
        Assert.Contains(busy.Client, test.Server.Clients);
    }

    [Theory, OnOwnHosts]
    public async Task AMessageThatDoesNotFitInTheServersBudgetClosesItsConnectionWith1013AndNoOtherMessageIsHurt(TestHost host)
    {
        await using var test = await StartEchoServerAsync(host, o =>
        {
            o.MaxAssemblyBytesPerAddress = TwoMessages;
            o.MaxAssemblyBytes = TwoMessages;
        });
        using var first = await SendUnfinishedAsync(test);
        using var second = await SendUnfinishedAsync(test);

        // The other address's share is empty, but all clients together hold the budget.
        using var other = await WsWire.ConnectAsync(test.Server.Port, OtherAddress);
        await other.SendIgnoringPeerCloseAsync(FrameWriter.Frame(Opcode.Text, Message.AsSpan(0, UnfinishedBytes), fin: false));
        await ExpectTryAgainLaterAsync(other, "server busy: the memory for incoming messages is in use; try again later");

        // A message that fits in the first 4 KiB costs the budget nothing; the held messages complete.
        using var small = await WsWire.ConnectAsync(test.Server.Port, OtherAddress);
        await small.SendTextAsync(Envelope.Echo("small"));
        await small.ExpectEchoAsync("small");
        await FinishAsync(first);
        await FinishAsync(second);
    }

    [Theory, OnOwnHosts]
    public async Task AMessageNotCompletedWithinTheAssemblyTimeoutIsClosedWith1008AndNotBefore(TestHost host)
    {
        var clock = new FakeTimeProvider();
        var timeout = TimeSpan.FromSeconds(10);
        await using var test = await StartEchoServerAsync(host, o =>
        {
            o.TimeProvider = clock;
            o.MessageAssemblyTimeout = timeout;
        });
        var disconnects = new EventLog<VizDisconnectEvent>();
        test.Server.OnDisconnect(disconnects.Add);
        using var ws = await WsWire.ConnectAsync(test.Server.Port);
        var prefix = Envelope.Truncated("ab"u8);

        // Completed a moment before the limit: delivered. Had the timer fired inside Advance, its close would be queued ahead of the echo.
        await ws.SendFrameAsync(Opcode.Text, prefix, fin: false);
        await ExpectReadAsync(ws);
        clock.Advance(timeout - TimeSpan.FromMilliseconds(1));
        await ws.SendFrameAsync(Opcode.Continuation, "c\"}"u8);
        await ws.ExpectEchoAsync("abc");

        // The next one keeps sending fragments, but the clock runs from its first: at the limit it is closed.
        await ws.SendFrameAsync(Opcode.Text, prefix, fin: false);
        await ExpectReadAsync(ws);
        clock.Advance(timeout - TimeSpan.FromMilliseconds(1));
        await ws.SendFrameAsync(Opcode.Continuation, "c"u8, fin: false);
        await ExpectReadAsync(ws);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        var close = await ws.ReadUntilCloseAsync();
        Assert.Equal(1008, close?.CloseCode);
        Assert.Equal("message not completed within 10 s", Reason(close!));
        await ws.SendFrameAsync(Opcode.Close, FrameWriter.ClosePayload(1008));
        await ws.ExpectTcpEndAsync();
        var gone = (await disconnects.WaitForCountAsync(1))[0];
        Assert.Equal(VizDisconnectReason.ProtocolViolation, gone.Reason);
        Assert.Equal(1008, gone.CloseStatus);
    }

    [Theory, OnOwnHosts]
    public async Task AMessageInMoreThanMaxMessageFramesIsClosedWith1009AndOneInExactlyThatManyIsDelivered(TestHost host)
    {
        const int MaxFrames = 64;
        await using var test = await StartEchoServerAsync(host, o => o.MaxMessageFrames = MaxFrames);
        using var ws = await WsWire.ConnectAsync(test.Server.Port);
        var inMaxFrames = FrameWriter.Fragmented(Opcode.Text, Envelope.OfLength(1000), Enumerable.Repeat(15, MaxFrames).ToArray());
        await ws.SendAsync(inMaxFrames);
        await ws.ExpectEchoAsync(Envelope.PaddingFor(1000));

        // The start of a message, then empty continuations: each costs 6 bytes and a read.
        var emptyFragment = FrameWriter.Frame(Opcode.Continuation, [], fin: false);
        await ws.SendFrameAsync(Opcode.Text, Envelope.Truncated("a"u8), fin: false);
        await ws.SendIgnoringPeerCloseAsync(FrameWriter.Concat(Enumerable.Repeat(emptyFragment, MaxFrames)));

        var close = await ws.ExpectCloseAsync(1009);
        Assert.Equal($"message in more than {MaxFrames} frames", Reason(close!));
        using var next = await WsWire.ConnectAsync(test.Server.Port);
        await next.SendAsync(inMaxFrames);
        await next.ExpectEchoAsync(Envelope.PaddingFor(1000));
    }

    private static async Task<TestServer> StartEchoServerAsync(TestHost host, Action<VizHtmlOptions> configure)
    {
        var test = await TestServer.StartAsync(host, o =>
        {
            o.MaxMessageBytes = MaxMessageBytes;
            configure(o);
        });
        test.Server.OnMessage("echo", e => e.Client.Send("echo", e.Data));
        return test;
    }

    /// <summary>A connection from 127.0.0.1 that has sent all of <see cref="Message"/> but its last 1000 bytes, read by the server.</summary>
    private static async Task<WsWire> SendUnfinishedAsync(TestServer test)
    {
        var ws = await WsWire.ConnectAsync(test.Server.Port);
        await ws.SendFrameAsync(Opcode.Text, Message.AsSpan(0, UnfinishedBytes), fin: false);
        await ExpectReadAsync(ws);
        return ws;
    }

    private static async Task FinishAsync(WsWire ws)
    {
        await ws.SendFrameAsync(Opcode.Continuation, Message.AsSpan(UnfinishedBytes));
        await ws.ExpectEchoAsync(Envelope.PaddingFor(MaxMessageBytes));
    }

    /// <summary>The server has read everything sent so far: the runtime answers a ping only once it has read the frames before it.</summary>
    private static async Task ExpectReadAsync(WsWire ws)
    {
        await ws.SendFrameAsync(Opcode.Ping, "read?"u8);
        var answer = await ws.ReadFrameAsync();
        Assert.True(answer is { Opcode: Opcode.Pong }, $"expected the pong, got {answer}");
    }

    private static async Task ExpectTryAgainLaterAsync(WsWire ws, string reason)
    {
        var close = await ws.ReadUntilCloseAsync();
        Assert.Equal(1013, close?.CloseCode);
        Assert.Equal(reason, Reason(close!));
        await ws.SendIgnoringPeerCloseAsync(FrameWriter.Frame(Opcode.Close, FrameWriter.ClosePayload(1013)));
    }

    private static string Reason(WsFrame close) => Encoding.UTF8.GetString(close.Payload.AsSpan(2));
}
