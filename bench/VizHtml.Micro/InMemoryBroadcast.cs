using System.Net;
using System.Net.WebSockets;
using VizHtml.Sessions;

namespace VizHtml.Micro;

/// <summary>
/// A started <see cref="VizHtmlServer"/> whose N version 1 clients are WebSockets over <see cref="DiscardStream"/>s:
/// everything VizHtml does for a broadcast (serialize once, queue per client, wake the writers, each writer's drain,
/// the WebSocket framing of every frame, the metrics it counts) runs as with real clients, but the bytes end in a stream
/// that takes every write at once, synchronously, and never has anything to read. What the kernel's sockets and the
/// clients' pace add (a write that completes later or sooner, so more or fewer events per write) is left out: the work
/// per delivery no longer depends on timing, and two measurements of it differ by little more than what differs in them.
/// </summary>
internal sealed class InMemoryBroadcast : IDisposable
{
    private readonly List<DiscardStream> _streams = [];

    private InMemoryBroadcast(VizHtmlServer server) => Server = server;

    public VizHtmlServer Server { get; }

    public int Clients => _streams.Count;

    /// <summary>Bytes the clients' streams have taken, in total.</summary>
    public long BytesWritten => _streams.Sum(s => s.Written);

    public static InMemoryBroadcast Start(int clients)
    {
        var server = new VizHtmlServer(new VizHtmlOptions { Port = 0, BindAddress = IPAddress.Loopback, MaxConnectionsPerAddress = clients + 10 });
        server.StartAsync().GetAwaiter().GetResult();
        var rig = new InMemoryBroadcast(server);
        for (var i = 0; i < clients; i++)
        {
            var stream = new DiscardStream();
            rig._streams.Add(stream);
            var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
            _ = server.Hub.RunSocketAsync(socket, new SocketPeer("10.0.0." + (i % 250), SpeaksVersion2: false, User: null, UserAgent: "micro"), CancellationToken.None);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (server.ClientCount < clients)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"only {server.ClientCount} of {clients} in-memory clients registered");
            }

            Thread.Sleep(5);
        }

        return rig;
    }

    /// <summary>
    /// Waits until every client's send queue is empty (the writers run on this process's other threads), sleeping between
    /// looks: a spinning wait would add CPU time of its own, as much as the writers happen to make it wait.
    /// </summary>
    public void WaitDrained()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var clients = Server.Clients;
        for (var i = 0; i < clients.Count; i++)
        {
            while (clients[i].Session.Connection.QueuedMessages > 0)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException("in-memory send queues did not drain within 30 s");
                }

                Thread.Sleep(1);
            }
        }
    }

    public void Dispose()
    {
        foreach (var stream in _streams)
        {
            stream.Dispose();
        }

        Server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>A client's end of the wire: takes every write at once and drops it; a read waits until the stream is disposed.</summary>
    private sealed class DiscardStream : Stream
    {
        private readonly TaskCompletionSource<int> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _written;

        public long Written => Interlocked.Read(ref _written);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => _closed.Task.GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _closed.Task.WaitAsync(cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(_closed.Task.WaitAsync(cancellationToken));

        public override void Write(byte[] buffer, int offset, int count) => Interlocked.Add(ref _written, count);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref _written, count);
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref _written, buffer.Length);
            return ValueTask.CompletedTask;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            _closed.TrySetResult(0);
            base.Dispose(disposing);
        }
    }
}
