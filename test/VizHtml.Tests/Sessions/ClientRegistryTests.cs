using System.Net.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;
using VizHtml.Connections;
using VizHtml.Protocol;
using VizHtml.Sessions;

namespace VizHtml.Tests.Sessions;

public sealed class ClientRegistryTests
{
    private static readonly SessionHub Hub = new(new VizHtmlOptions(), new EnvelopeSerializer(new System.Text.Json.JsonSerializerOptions()), VizHtml.Events.Dispatcher.Create(VizDispatchMode.Manual, null), new VizHtml.Events.EventRouter(NullLogger.Instance), new InMemorySessionStore(10, 10), NullLogger.Instance);

    [Fact]
    public void AViewHoldsTheClientsInTheOrderTheyCameAndSkipsThoseThatLeft()
    {
        var registry = new ClientRegistry();
        var clients = Enumerable.Range(0, 1000).Select(NewClient).ToList();
        clients.ForEach(registry.Add);
        foreach (var client in clients.Where((_, i) => i % 3 != 0))
        {
            registry.Remove(client);
        }

        var expected = clients.Where((_, i) => i % 3 == 0).ToList();
        Assert.Equal(expected, Walk(registry.Current));
        Assert.Equal(expected, registry.Snapshot);
        Assert.Equal(expected.Count, registry.Count);
    }

    [Fact]
    public void AViewTakenBeforeAClientLeftStillHoldsIt()
    {
        // A broadcast that took its view before a client left must still reach that client (which keeps the event for its
        // resume); the broadcast log holds only what was broadcast after it left.
        var registry = new ClientRegistry();
        var clients = Enumerable.Range(0, 40).Select(NewClient).ToList();
        clients.ForEach(registry.Add);
        var before = registry.Current;
        registry.Remove(clients[7]);
        registry.Remove(clients[39]);

        Assert.Equal(clients, Walk(before));
        Assert.Equal(clients.Where((_, i) => i is not (7 or 39)), Walk(registry.Current));
    }

    [Fact]
    public void AnOlderViewStillHoldsEveryClientThatStayedThroughAddsRemovesAndRebuilds()
    {
        var registry = new ClientRegistry();
        var stay = Enumerable.Range(0, 50).Select(NewClient).ToList();
        var leave = Enumerable.Range(0, 200).Select(NewClient).ToList();
        foreach (var (s, l) in stay.Zip(leave.Chunk(4)))
        {
            registry.Add(s);
            Array.ForEach(l, registry.Add);
        }

        var old = registry.Current;

        // Enough leaving to compact, enough joining to grow: both rebuild the array.
        leave.ForEach(registry.Remove);
        var late = Enumerable.Range(0, 300).Select(NewClient).ToList();
        late.ForEach(registry.Add);

        // It may still show clients that left after it was taken (as any snapshot would), but misses none that stayed.
        var stayers = stay.ToHashSet();
        Assert.Equal(stay, Walk(old).Where(stayers.Contains));
        Assert.Equal([.. stay, .. late], Walk(registry.Current));
    }

    [Fact]
    public void AddingTwiceOrRemovingAStrangerChangesNothing()
    {
        var registry = new ClientRegistry();
        var client = NewClient(0);
        registry.Add(client);
        registry.Add(client);
        registry.Remove(NewClient(1));
        Assert.Equal([client], registry.Snapshot);
        Assert.Same(registry.Snapshot, registry.Snapshot);
    }

    [Fact]
    public async Task ConcurrentReadersNeverMissAClientThatStaysConnected()
    {
        var registry = new ClientRegistry();
        var stay = Enumerable.Range(0, 100).Select(NewClient).ToList();
        stay.ForEach(registry.Add);
        var stop = false;
        var churn = Task.Run(() =>
        {
            var i = 0;
            while (!Volatile.Read(ref stop))
            {
                var batch = Enumerable.Range(0, 64).Select(_ => NewClient(i++)).ToList();
                batch.ForEach(registry.Add);
                batch.ForEach(registry.Remove);
            }
        });

        var stayers = stay.ToHashSet();
        for (var round = 0; round < 2000; round++)
        {
            var seen = Walk(registry.Current).Where(stayers.Contains).ToList();
            Assert.Equal(stay, seen);
        }

        Volatile.Write(ref stop, true);
        await churn;
    }

    private static List<VizClient> Walk(ClientRegistry.View view)
    {
        var list = new List<VizClient>();
        foreach (var client in view)
        {
            list.Add(client);
        }

        return list;
    }

    private static VizClient NewClient(int n)
    {
        var socket = WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions { IsServer = true });
        var options = new ConnectionOptions(1024, 100, 16, 1024, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeProvider.System);
        var connection = new Connection(socket, "127.0.0.1", new NoHandler(), options, new EnvelopeReader(64), NullLogger.Instance);
        return new Session(Hub, connection, new VizClientInfo($"c{n}", "127.0.0.1", DateTimeOffset.UnixEpoch, null), replay: null).Client;
    }

    private sealed class NoHandler : IConnectionHandler
    {
        public bool ThrottlesInsteadOfDropping => false;

        public bool OnEnvelope(Connection connection, InboundEnvelope envelope) => false;
    }
}
