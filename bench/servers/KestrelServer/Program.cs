using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using VizHtml.BenchServers;

// The in-framework baseline: what a competent developer writes on raw Kestrel WebSockets in about a hundred lines.
//   PORT=9005 dotnet bin/Release/net10.0/KestrelServer.dll
// ws://127.0.0.1:PORT/ws; a broadcast is a bare text frame; any text frame a client sends comes back to it.
// Per connection: an unbounded queue drained by one writer loop (one SendAsync per message), and a read loop.
var port = ServerControl.PortFromEnvironment();
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));

var app = builder.Build();
var clients = new ConcurrentDictionary<Client, bool>();
app.UseWebSockets();
app.Map("/ws", async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var client = new Client(socket);
    clients[client] = true;
    var writing = client.WriteLoopAsync();
    try
    {
        await client.ReadLoopAsync(context.RequestAborted);
    }
    finally
    {
        clients.TryRemove(client, out _);
        client.Outbox.Writer.TryComplete();
        await writing;
    }
});
await app.StartAsync();

await ServerControl.RunAsync(
    port,
    clients: () => clients.Count,
    broadcast: payload =>
    {
        ReadOnlyMemory<byte> bytes = Encoding.UTF8.GetBytes(payload); // serialized once, shared by every client
        foreach (var (client, _) in clients)
        {
            client.Outbox.Writer.TryWrite(bytes);
        }

        return ValueTask.CompletedTask;
    },
    closeAsync: StopAsync,
    stopping: app.Lifetime.ApplicationStopping);
return 0;

// Open sockets would hold a graceful stop for the host's 30 s; one second is plenty for a benchmark server.
async Task StopAsync()
{
    using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
    await app.StopAsync(grace.Token);
}

/// <summary>One connected WebSocket: its queue of outgoing text messages, its writer and its reader.</summary>
internal sealed class Client(WebSocket socket)
{
    public Channel<ReadOnlyMemory<byte>> Outbox { get; } =
        Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The only place that sends on the socket (a WebSocket allows one send at a time), then closes it.</summary>
    public async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var message in Outbox.Reader.ReadAllAsync())
            {
                await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }

            if (socket.State == WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The client is gone, or the server is stopping; the read loop sees it too and removes the client.
        }
    }

    /// <summary>Queues every text message back to the sender until the client closes.</summary>
    public async Task ReadLoopAsync(CancellationToken aborted)
    {
        var buffer = new byte[4096];
        var message = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(), aborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                message.Write(buffer.AsSpan(0, received.Count));
                if (received.EndOfMessage)
                {
                    if (received.MessageType == WebSocketMessageType.Text)
                    {
                        Outbox.Writer.TryWrite(message.WrittenSpan.ToArray());
                    }

                    message.ResetWrittenCount();
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // Dropped without a close handshake, or the server is stopping.
        }
    }
}
