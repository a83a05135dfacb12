using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace VizHtml.IntegrationTests.Infrastructure;

/// <summary>A real VizHtml server on 127.0.0.1 and an ephemeral port, with helpers to await its events.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private TestServer(VizHtmlServer server) => Server = server;

    public VizHtmlServer Server { get; }

    public Uri SocketUri => new($"ws://127.0.0.1:{Server.Port}/vizhtml/socket");

    public Uri HttpBase => new($"http://127.0.0.1:{Server.Port}/");

    public static async Task<TestServer> StartAsync(Action<VizHtmlOptions>? configure = null)
    {
        var options = new VizHtmlOptions
        {
            Port = 0,
            BindAddress = System.Net.IPAddress.Loopback,
            LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Critical)),
            CloseTimeout = TimeSpan.FromSeconds(2),
            ShutdownTimeout = TimeSpan.FromSeconds(2),
        };
        configure?.Invoke(options);
        var server = new VizHtmlServer(options);
        await server.StartAsync().WaitAsync(Timeout);
        return new TestServer(server);
    }

    /// <summary>Connects a raw client and waits until the server has raised its connect event.</summary>
    public async Task<(RawClient Client, VizClient ServerSide)> ConnectAsync()
    {
        var connected = new TaskCompletionSource<VizClient>(TaskCreationOptions.RunContinuationsAsynchronously);
        var before = Server.Clients.Select(c => c.Id).ToHashSet();
        using var subscription = Server.OnConnect(e =>
        {
            if (!before.Contains(e.Client.Id))
            {
                connected.TrySetResult(e.Client);
            }
        });
        var client = await RawClient.ConnectAsync(SocketUri);
        var serverSide = await connected.Task.WaitAsync(Timeout);
        return (client, serverSide);
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync().AsTask().WaitAsync(Timeout);

    /// <summary>Polls a condition that no event signals (counts inside the server, a proxy's links), within <see cref="Timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true in time");
            await Task.Delay(2);
        }
    }
}

/// <summary>A plain ClientWebSocket that speaks the envelope protocol, as any Node or Python client would.</summary>
public sealed class RawClient : IDisposable
{
    private readonly byte[] _buffer = new byte[1 << 20];

    private RawClient(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    public static async Task<RawClient> ConnectAsync(Uri uri)
    {
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await socket.ConnectAsync(uri, timeout.Token);
        return new RawClient(socket);
    }

    public Task SendAsync(string eventName, object? data) =>
        SendTextAsync(JsonSerializer.Serialize(new { @event = eventName, data }));

    public async Task SendTextAsync(string text)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
    }

    /// <summary>The next text message, or null when the server closed.</summary>
    public async Task<string?> ReceiveTextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TestServer.Timeout);
        var length = 0;
        while (true)
        {
            var result = await Socket.ReceiveAsync(_buffer.AsMemory(length), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            length += result.Count;
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(_buffer, 0, length);
            }
        }
    }

    /// <summary>The next envelope as (event, data).</summary>
    public async Task<(string Event, JsonNode? Data)> ReceiveAsync(TimeSpan? timeout = null)
    {
        var text = await ReceiveTextAsync(timeout) ?? throw new InvalidOperationException("The server closed the connection.");
        var envelope = JsonNode.Parse(text)!.AsObject();
        return (envelope["event"]!.GetValue<string>(), envelope["data"]);
    }

    /// <summary>Reads until the server's close frame arrives and returns its status.</summary>
    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync()
    {
        while (await ReceiveTextAsync() is not null)
        {
        }

        return Socket.CloseStatus;
    }

    public void Dispose() => Socket.Dispose();
}

/// <summary>Collects events raised by handlers so a test can await the n-th one.</summary>
public sealed class EventLog<T>
{
    private readonly List<T> _items = [];
    private readonly List<(Func<IReadOnlyList<T>, bool> Condition, TaskCompletionSource Signal)> _waiters = [];

    public void Add(T item)
    {
        lock (_items)
        {
            _items.Add(item);
            foreach (var waiter in _waiters.Where(w => w.Condition(_items)).ToArray())
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    public IReadOnlyList<T> Items
    {
        get
        {
            lock (_items)
            {
                return _items.ToArray();
            }
        }
    }

    public async Task<IReadOnlyList<T>> WaitForAsync(Func<IReadOnlyList<T>, bool> condition, TimeSpan? timeout = null)
    {
        TaskCompletionSource signal;
        lock (_items)
        {
            if (condition(_items))
            {
                return _items.ToArray();
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, signal));
        }

        await signal.Task.WaitAsync(timeout ?? TestServer.Timeout);
        return Items;
    }

    public Task<IReadOnlyList<T>> WaitForCountAsync(int count, TimeSpan? timeout = null) =>
        WaitForAsync(items => items.Count >= count, timeout);
}
