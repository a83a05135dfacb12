using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>
/// Where a test's handlers run, for each <see cref="VizDispatchMode"/>: the thread pool (nothing to do), a
/// <see cref="SynchronizationContext"/> on a dedicated thread of the test's own, or a host loop on a dedicated thread that
/// calls <see cref="VizHtmlServer.DispatchPending"/> about once a millisecond. Dispose it after the server.
/// </summary>
internal sealed class DispatchHost : IDisposable
{
    private readonly SingleThreadContext? _context;
    private Thread? _loop;
    private volatile bool _stopping;

    public DispatchHost(VizDispatchMode mode)
    {
        Mode = mode;
        _context = mode == VizDispatchMode.SynchronizationContext ? new SingleThreadContext() : null;
    }

    public VizDispatchMode Mode { get; }

    /// <summary>The thread every handler must run on, or null for the thread pool (serialized mode).</summary>
    public int? HandlerThreadId => _context?.ThreadId ?? _loop?.ManagedThreadId;

    public void Configure(VizHtmlOptions options)
    {
        options.Dispatch = Mode;
        options.SynchronizationContext = _context;
    }

    /// <summary>Starts the host loop of the manual mode; call it before the first client connects.</summary>
    public void Attach(VizHtmlServer server)
    {
        if (Mode != VizDispatchMode.Manual)
        {
            return;
        }

        _loop = new Thread(() =>
        {
            while (!_stopping)
            {
                server.DispatchPending();
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "test host loop" };
        _loop.Start();
    }

    public static async Task<(TestServer Test, DispatchHost Dispatch)> StartAsync(TestHost host, VizDispatchMode mode, Action<VizHtmlOptions>? configure = null)
    {
        var dispatch = new DispatchHost(mode);
        var test = await TestServer.StartAsync(host, o =>
        {
            dispatch.Configure(o);
            configure?.Invoke(o);
        });
        dispatch.Attach(test.Server);
        return (test, dispatch);
    }

    public void Dispose()
    {
        _stopping = true;

        // A handler that never returned holds its thread: that is the failure the test reports, not a reason to hang here.
        _loop?.Join(TestServer.Timeout);
        _context?.Dispose();
    }
}

/// <summary>
/// A raw client of either protocol version: version 1 is the plain socket URL; version 2 says <c>?v=2</c>, opens with
/// <c>$hello</c>, numbers what it sends (so the server answers each with an <c>$ack</c>) and acknowledges what it gets.
/// </summary>
internal sealed class ProtocolClient : IDisposable
{
    private long _sent;
    private long _received;

    private ProtocolClient(RawClient raw, int version)
    {
        Raw = raw;
        Version = version;
    }

    public RawClient Raw { get; }

    public int Version { get; }

    /// <summary>The highest sequence number the server acknowledged (version 2).</summary>
    public long Acknowledged { get; private set; }

    public static async Task<ProtocolClient> ConnectAsync(TestServer test, int version)
    {
        if (version == 1)
        {
            return new ProtocolClient(await RawClient.ConnectAsync(test.SocketUri), 1);
        }

        var raw = await RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2"));
        await raw.SendTextAsync("""{"event":"$hello","data":{}}""");
        var (name, _) = await raw.ReceiveAsync();
        Assert.Equal("$welcome", name);
        return new ProtocolClient(raw, 2);
    }

    /// <summary>Sends an event; a version 2 client numbers it.</summary>
    public Task SendAsync(string eventName, JsonNode? data)
    {
        var envelope = new JsonObject { ["event"] = eventName, ["data"] = data };
        if (Version == 2)
        {
            envelope["seq"] = ++_sent;
        }

        return Raw.SendTextAsync(envelope.ToJsonString());
    }

    /// <summary>The sequence number of the last event sent (version 2).</summary>
    public long LastSent => _sent;

    /// <summary>
    /// The next application event; <c>$ack</c>s are noted in <see cref="Acknowledged"/>, heartbeats skipped. Throws
    /// <see cref="OperationCanceledException"/> when nothing arrives within <paramref name="timeout"/>.
    /// </summary>
    public async Task<(string Event, JsonNode? Data)> ReceiveAsync(TimeSpan timeout)
    {
        while (true)
        {
            var text = await Raw.ReceiveTextAsync(timeout) ?? throw new InvalidOperationException("The server closed the connection.");
            var envelope = JsonNode.Parse(text)!.AsObject();
            var name = envelope["event"]!.GetValue<string>();
            if (envelope["seq"] is { } seq)
            {
                _received = Math.Max(_received, seq.GetValue<long>());
            }

            switch (name)
            {
                case "$ack":
                    Acknowledged = Math.Max(Acknowledged, envelope["data"]!["seq"]!.GetValue<long>());
                    return (name, envelope["data"]);
                case "$heartbeat":
                    continue;
                default:
                    return (name, envelope["data"]);
            }
        }
    }

    /// <summary>Acknowledges every numbered event received so far (version 2), so the server's replay buffer stays small.</summary>
    public Task AckReceivedAsync() =>
        Version == 2 && _received > 0
            ? Raw.SendTextAsync(new JsonObject { ["event"] = "$ack", ["data"] = new JsonObject { ["seq"] = _received } }.ToJsonString())
            : Task.CompletedTask;

    public void Dispose() => Raw.Dispose();
}
