using System.Collections.Concurrent;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Sockets;

public sealed class DispatchModeTests
{
    [Theory]
    [OnEveryHost]
    public async Task DefaultDeliveryRunsOneHandlerAtATimeInArrivalOrderOffTheNetworkThreads(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var running = 0;
        var overlapped = false;
        var received = new EventLog<(string Client, int N)>();
        test.Server.OnMessage("n", e =>
        {
            overlapped |= Interlocked.Increment(ref running) > 1;
            Thread.SpinWait(2000);
            received.Add((e.Client.Id, e.Data.GetInt32()));
            Interlocked.Decrement(ref running);
        });
        var clients = new[] { await test.ConnectAsync(), await test.ConnectAsync(), await test.ConnectAsync() };

        const int PerClient = 200;
        await Task.WhenAll(clients.Select(async c =>
        {
            for (var i = 0; i < PerClient; i++)
            {
                await c.Client.SendAsync("n", i);
            }
        }));

        var all = await received.WaitForCountAsync(PerClient * clients.Length);
        Assert.False(overlapped, "two handlers ran at the same time");
        foreach (var (_, serverSide) in clients)
        {
            Assert.Equal(Enumerable.Range(0, PerClient), all.Where(r => r.Client == serverSide.Id).Select(r => r.N));
        }

        foreach (var (client, _) in clients)
        {
            client.Dispose();
        }
    }

    [Theory]
    [OnEveryHost]
    public async Task ConnectMessageAndDisconnectOfOneClientArriveInThatOrder(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var log = new EventLog<string>();
        test.Server.OnConnect(_ => log.Add("connect"));
        test.Server.OnMessage(e => log.Add("message " + e.Data.GetInt32()));
        test.Server.OnDisconnect(_ => log.Add("disconnect"));

        var client = await RawClient.ConnectAsync(test.SocketUri);
        await client.SendAsync("m", 1);
        await client.SendAsync("m", 2);
        await client.Socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        client.Dispose();

        Assert.Equal(["connect", "message 1", "message 2", "disconnect"], await log.WaitForCountAsync(4));
    }

    [Theory]
    [OnEveryHost]
    public async Task SynchronizationContextDeliveryRunsHandlersOnTheContextsThread(TestHost host)
    {
        using var context = new SingleThreadContext();
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.Dispatch = VizDispatchMode.SynchronizationContext;
            o.SynchronizationContext = context;
        });
        var threads = new EventLog<int>();
        test.Server.OnConnect(_ => threads.Add(Environment.CurrentManagedThreadId));
        test.Server.OnMessage("x", _ => threads.Add(Environment.CurrentManagedThreadId));

        var (client, _) = await test.ConnectAsync();
        using var _c = client;
        await client.SendAsync("x", 1);
        await client.SendAsync("x", 2);

        Assert.All(await threads.WaitForCountAsync(3), id => Assert.Equal(context.ThreadId, id));
    }

    [Theory]
    [OnEveryHost]
    public async Task ManualDeliveryWaitsForDispatchPendingAndRunsOnItsCaller(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.Dispatch = VizDispatchMode.Manual);
        var handled = new List<(string What, int Thread)>();
        test.Server.OnConnect(_ => handled.Add(("connect", Environment.CurrentManagedThreadId)));
        test.Server.OnMessage("x", e => handled.Add(("x" + e.Data.GetInt32(), Environment.CurrentManagedThreadId)));

        var client = await RawClient.ConnectAsync(test.SocketUri);
        using var _c = client;
        await client.SendAsync("x", 1);

        // The read loop answers a bad frame itself; once that answer arrives, "x" has been read and queued.
        await client.SendTextAsync("not json");
        Assert.Equal("$error", (await client.ReceiveAsync()).Event);
        Assert.Empty(handled);

        // A host loop on one thread: one DispatchPending call per frame (about 1 ms here).
        var hostThread = RunHostLoop(test.Server, () => handled.Count >= 2);

        Assert.Equal([("connect", hostThread), ("x1", hostThread)], handled);
    }

    private static int RunHostLoop(VizHtmlServer server, Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        while (!done() && DateTime.UtcNow < deadline)
        {
            server.DispatchPending();
            Thread.Sleep(1);
        }

        return Environment.CurrentManagedThreadId;
    }
}
