using System.Net;
using System.Net.WebSockets;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Sdk;

namespace VizHtml.IntegrationTests.Infrastructure;

/// <summary>Where a <see cref="TestServer"/> runs the same <see cref="VizHtmlServer"/> API.</summary>
public enum TestHost
{
    /// <summary><c>new VizHtmlServer(options)</c> and <c>StartAsync</c>: VizHtml's own Kestrel.</summary>
    Embedded,

    /// <summary><c>AddVizHtml</c> and <c>MapVizHtml()</c> in a <see cref="WebApplication"/>: the app's Kestrel and pipeline.</summary>
    Mapped,

    /// <summary><c>new VizHtmlServer(options)</c> with <see cref="VizHtmlHost.Standalone"/>: VizHtml's own HTTP/1.1 server, as under Unity and Mono.</summary>
    Standalone,
}

/// <summary>
/// Runs a theory once per <see cref="TestHost"/> (embedded, mapped, standalone), the host first: <c>[Theory, OnEveryHost]</c>,
/// or with inline data <c>[Theory, OnEveryHost("a", 1)]</c> for a method <c>(TestHost host, string s, int n)</c>. For what
/// every host serves alike: the socket protocol, pages, forms, request handlers, resume.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class OnEveryHostAttribute(params object?[] data) : DataAttribute
{
    public override IEnumerable<object?[]> GetData(MethodInfo testMethod) =>
        Enum.GetValues<TestHost>().Select(host => (object?[])[host, .. data]);
}

/// <summary>
/// Runs a theory on the hosts where VizHtml runs its own server, <see cref="TestHost.Embedded"/> and
/// <see cref="TestHost.Standalone"/>, the host first: <c>[Theory, OnOwnHosts]</c> or <c>[Theory, OnOwnHosts("a", 1)]</c>.
/// For what a mapped app owns instead of VizHtml: ports, TLS, binding, the server's lifetime, and the options the app's
/// Kestrel ignores (a mapped server is tested by the app's own suite, <c>AspNetCore/</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class OnOwnHostsAttribute(params object?[] data) : DataAttribute
{
    public override IEnumerable<object?[]> GetData(MethodInfo testMethod) =>
        new[] { TestHost.Embedded, TestHost.Standalone }.Select(host => (object?[])[host, .. data]);
}

/// <summary>
/// A real VizHtml server on 127.0.0.1 and an ephemeral port, with helpers to await its events: embedded, or mapped
/// into a <see cref="WebApplication"/> at <c>/vizhtml</c> (see <see cref="TestHost"/>); the tests see the same API either way.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static readonly ILoggerFactory QuietLogs = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Critical));

    // Null for the embedded host.
    private readonly WebApplication? _app;
    private readonly int _appPort;

    private TestServer(VizHtmlServer server, WebApplication? app, int appPort)
    {
        Server = server;
        _app = app;
        _appPort = appPort;
    }

    public VizHtmlServer Server { get; }

    /// <summary>
    /// The port the test's URLs use: the embedded server's (it may change on a restart, so it is read each time) or the one
    /// the app bound, taken from the app's own addresses rather than from <see cref="VizHtmlServer.Port"/>, which a test checks.
    /// </summary>
    public int Port => _app is null ? Server.Port : _appPort;

    public Uri SocketUri => new($"ws://127.0.0.1:{Port}/vizhtml/socket");

    public Uri HttpBase => new($"http://127.0.0.1:{Port}/");

    /// <summary>
    /// An embedded (Kestrel) server, for the tests about Kestrel itself; a test of VizHtml's own server (ports, TLS,
    /// binding, its lifetime) takes <c>[Theory, OnOwnHosts]</c> and passes its host to the overload below.
    /// </summary>
    public static Task<TestServer> StartAsync(Action<VizHtmlOptions>? configure = null) => StartAsync(TestHost.Embedded, configure);

    public static async Task<TestServer> StartAsync(TestHost host, Action<VizHtmlOptions>? configure = null)
    {
        void Configure(VizHtmlOptions options)
        {
            // Port and bind address are the embedded host's; a mapped server ignores them (the app listens).
            options.Port = 0;
            options.BindAddress = IPAddress.Loopback;
            options.LoggerFactory = QuietLogs;
            options.CloseTimeout = TimeSpan.FromSeconds(2);
            options.ShutdownTimeout = TimeSpan.FromSeconds(2);
            configure?.Invoke(options);
        }

        if (host == TestHost.Mapped)
        {
            return await StartMappedAsync(Configure).WaitAsync(Timeout);
        }

        var options = new VizHtmlOptions { Host = host == TestHost.Standalone ? VizHtmlHost.Standalone : VizHtmlHost.Automatic };
        Configure(options);
        var server = new VizHtmlServer(options);
        await server.StartAsync().WaitAsync(Timeout);
        return new TestServer(server, app: null, appPort: 0);
    }

    /// <summary>An ordinary ASP.NET Core app with VizHtml mapped in, as a user's program would have it.</summary>
    private static async Task<TestServer> StartMappedAsync(Action<VizHtmlOptions> configure)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "VizHtml.IntegrationTests.MappedHost",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));

        // Teardown stays short: VizHtml closes its clients within its ShutdownTimeout, then Kestrel gets the rest of
        // these 5 s (not the default 30) for whatever connection lingers.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddVizHtml(configure);
        var app = builder.Build();
        app.MapVizHtml();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new TestServer(app.Services.GetRequiredService<VizHtmlServer>(), app, new Uri(address).Port);
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

    public async ValueTask DisposeAsync()
    {
        if (_app is null)
        {
            await Server.DisposeAsync().AsTask().WaitAsync(Timeout);
            return;
        }

        // Stopping the app stops VizHtml first (its hosted service), then Kestrel; disposing it disposes the server.
        await _app.StopAsync().WaitAsync(Timeout);
        await _app.DisposeAsync().AsTask().WaitAsync(Timeout);
    }

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

    /// <summary>Connects to <paramref name="uri"/>; <paramref name="configure"/> may add request headers (an app's credentials).</summary>
    public static async Task<RawClient> ConnectAsync(Uri uri, Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        configure?.Invoke(socket.Options);
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
