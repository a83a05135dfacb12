using System.Diagnostics;
using System.Text.Json.Nodes;
using VizHtml.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>
/// A handler may block on its own send (<c>SendAsync(...).Wait()</c>, <c>SendAllAsync(...).Wait()</c>): whatever thread
/// it runs on (a read loop that found the dispatcher idle, a thread-pool drain, a UI context, the host's loop), the event
/// still leaves, the wait ends and the client has the event within a second, with the dispatcher idle and with it busy
/// (other clients flooding handlers that take a little time), for protocol version 1 and version 2 (whose <c>$ack</c>
/// for the same message waits in the queue the handler's send goes through).
/// </summary>
public sealed class HandlerBlockingTests(ITestOutputHelper output)
{
    private const int Rounds = 200;
    private const int Flooders = 2;
    private const int FloodWindow = 8;
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan FloodHandlerTime = TimeSpan.FromMilliseconds(0.1);

    public enum BlockingSend
    {
        /// <summary><c>e.Client.SendAsync(...).Wait()</c>.</summary>
        OwnClient,

        /// <summary><c>server.SendAllAsync(...).Wait()</c>.</summary>
        AllClients,
    }

    public static TheoryData<TestHost, VizDispatchMode, BlockingSend, int> Cases()
    {
        var cases = new TheoryData<TestHost, VizDispatchMode, BlockingSend, int>();
        foreach (var host in new[] { TestHost.Embedded, TestHost.Standalone })
        {
            foreach (var mode in new[] { VizDispatchMode.Serialized, VizDispatchMode.SynchronizationContext, VizDispatchMode.Manual })
            {
                foreach (var send in new[] { BlockingSend.OwnClient, BlockingSend.AllClients })
                {
                    cases.Add(host, mode, send, 1);
                    cases.Add(host, mode, send, 2);
                }
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AHandlerBlockedOnItsOwnSendGetsTheEventToTheClientWithinASecond(TestHost host, VizDispatchMode mode, BlockingSend send, int protocol)
    {
        var (test, dispatch) = await DispatchHost.StartAsync(host, mode, o => o.MaxMessagesPerSecond = 1_000_000);
        using var _h = dispatch;
        await using var _t = test;
        var server = test.Server;
        var wrongThread = 0;
        var floodSent = 0L;
        var floodHandled = 0L;
        var outstandingAtAsk = new List<long>();

        server.OnMessage("ask", e =>
        {
            if (dispatch.HandlerThreadId is { } id && id != Environment.CurrentManagedThreadId)
            {
                Volatile.Write(ref wrongThread, 1);
            }

            lock (outstandingAtAsk)
            {
                outstandingAtAsk.Add(Interlocked.Read(ref floodSent) - Interlocked.Read(ref floodHandled));
            }

            var n = e.Data.GetInt32();

            // Bounded only so a deadlock fails this test instead of holding a thread for the rest of the run.
            string result;
            if (send == BlockingSend.OwnClient)
            {
                var sending = e.Client.SendAsync("answer", n);
                result = sending.Wait(TestServer.Timeout) ? sending.Result.ToString() : "wait timed out";
            }
            else
            {
                var sending = server.SendAllAsync("answer", n);
                result = sending.Wait(TestServer.Timeout) ? (sending.Result >= 1).ToString() : "wait timed out";
            }

            e.Client.Send("done", new JsonObject { ["n"] = n, ["result"] = result });
        });
        server.OnMessage("flood", e =>
        {
            var spin = Stopwatch.StartNew();
            while (spin.Elapsed < FloodHandlerTime)
            {
                Thread.SpinWait(20);
            }

            Interlocked.Increment(ref floodHandled);
            e.Client.Send("flooded", null);
        });

        using var client = await ProtocolClient.ConnectAsync(test, protocol);
        await RunRoundsAsync(client, 0, "idle");

        using var stop = new CancellationTokenSource();
        var flooders = new List<Task>();
        var floodClients = new List<RawClient>();
        for (var i = 0; i < Flooders; i++)
        {
            var flooder = await RawClient.ConnectAsync(test.SocketUri);
            floodClients.Add(flooder);
            flooders.Add(FloodAsync(flooder, () => Interlocked.Increment(ref floodSent), stop.Token));
        }

        try
        {
            // Busy from here: every flooder keeps its window of events waiting for the dispatcher.
            await TestServer.WaitUntilAsync(() => Interlocked.Read(ref floodHandled) >= Flooders * FloodWindow);
            int idleAsks;
            lock (outstandingAtAsk)
            {
                idleAsks = outstandingAtAsk.Count;
            }

            await RunRoundsAsync(client, Rounds, "busy");
            List<long> busy;
            lock (outstandingAtAsk)
            {
                busy = outstandingAtAsk.Skip(idleAsks).ToList();
            }

            output.WriteLine($"{mode} {send} v{protocol}: flood events sent and not yet handled when an ask was handled: mean {busy.Average():F1}, max {busy.Max()}");
            Assert.True(busy.Average() >= 2, $"the dispatcher was not busy: {busy.Average():F1} flood events outstanding on average");
        }
        finally
        {
            // A flooder waits in a receive that nothing may answer any more: closing its socket ends it.
            await stop.CancelAsync();
            floodClients.ForEach(c => c.Dispose());
            await Task.WhenAll(flooders).WaitAsync(TestServer.Timeout);
        }

        Assert.True(wrongThread == 0, $"a handler ran off the thread {mode} dispatch promises");
    }

    private static async Task RunRoundsAsync(ProtocolClient client, int first, string phase)
    {
        var clock = new Stopwatch();
        for (var n = first; n < first + Rounds; n++)
        {
            clock.Restart();
            await client.SendAsync("ask", n);
            var answered = false;
            string? result = null;
            while (!answered || result is null || (client.Version == 2 && client.Acknowledged < client.LastSent))
            {
                var left = Within - clock.Elapsed;
                (string Event, JsonNode? Data) received;
                try
                {
                    received = await client.ReceiveAsync(left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1));
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"{phase} round {n - first}: after {clock.Elapsed.TotalMilliseconds:F0} ms the client has answer={answered}, done={result is not null}, ack={client.Acknowledged}/{client.LastSent}");
                    throw;
                }

                switch (received.Event)
                {
                    case "answer":
                        Assert.Equal(n, received.Data!.GetValue<int>());
                        answered = true;
                        break;
                    case "done":
                        Assert.Equal(n, received.Data!["n"]!.GetValue<int>());
                        result = received.Data["result"]!.GetValue<string>();
                        break;
                }
            }

            Assert.True(result == bool.TrueString, $"{phase} round {n - first}: the handler's wait ended with {result}");
            if (n % 50 == 0)
            {
                await client.AckReceivedAsync();
            }
        }
    }

    /// <summary>Keeps <see cref="FloodWindow"/> flood events in flight until stopped, reading everything the server sends.</summary>
    private static async Task FloodAsync(RawClient flooder, Action sent, CancellationToken stop)
    {
        for (var i = 0; i < FloodWindow; i++)
        {
            sent();
            await flooder.SendAsync("flood", i);
        }

        try
        {
            while (!stop.IsCancellationRequested)
            {
                var (name, _) = await flooder.ReceiveAsync();
                if (name == "flooded" && !stop.IsCancellationRequested)
                {
                    sent();
                    await flooder.SendAsync("flood", 0);
                }
            }
        }
        catch (Exception ex) when (stop.IsCancellationRequested && ex is ObjectDisposedException or System.Net.WebSockets.WebSocketException or OperationCanceledException)
        {
        }
    }
}
