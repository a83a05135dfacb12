using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VizHtml.IntegrationTests.Infrastructure;
using VizHtml.IntegrationTests.Security;

namespace VizHtml.IntegrationTests.NetClient;

/// <summary>A <see cref="VizHtmlClient"/> against a server that is not there, and its state against one that is.</summary>
public sealed class ClientConnectTests
{
    private const string Key = "k3y-never-in-messages";

    [Fact]
    public async Task ConnectTimeoutThrowsNamingTheUrlWithoutTheKey()
    {
        var port = ClosedPort();
        var options = new VizHtmlClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300), AccessKey = Key };
        await using var client = new VizHtmlClient(new Uri($"http://127.0.0.1:{port}/"), options);
        var clock = Stopwatch.StartNew();

        var thrown = await Assert.ThrowsAsync<VizHtmlConnectTimeoutException>(() => client.StartAsync().WaitAsync(TestServer.Timeout));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"gave up after {clock.Elapsed}");
        Assert.Equal($"ws://127.0.0.1:{port}/vizhtml/socket", thrown.Url);
        Assert.Contains(thrown.Url, thrown.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, thrown.ToString(), StringComparison.Ordinal);
        Assert.Equal(VizClientState.Closed, client.State);
    }

    [Fact]
    public async Task AClientThatGaveUpRefusesToStartAgain()
    {
        var options = new VizHtmlClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(100) };
        await using var client = new VizHtmlClient(new Uri($"http://127.0.0.1:{ClosedPort()}/"), options);
        await Assert.ThrowsAsync<VizHtmlConnectTimeoutException>(() => client.StartAsync().WaitAsync(TestServer.Timeout));

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => client.StartAsync().WaitAsync(TestServer.Timeout));

        Assert.Contains("closed", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachFailedAttemptIsOneWarningNamingTheEndpointAndTheReason()
    {
        var port = ClosedPort();
        var capture = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        var options = new VizHtmlClientOptions
        {
            ConnectTimeout = TimeSpan.FromMilliseconds(500),
            InitialReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(40),
            LoggerFactory = factory,
            AccessKey = Key,
        };
        await using var client = new VizHtmlClient(new Uri($"http://127.0.0.1:{port}/"), options);

        // The timeout ends the attempts, so every line is in before the assertions.
        await Assert.ThrowsAsync<VizHtmlConnectTimeoutException>(() => client.StartAsync().WaitAsync(TestServer.Timeout));

        var failures = capture.Lines.Where(l => l.StartsWith("VizHtml.Client Warning: Could not connect", StringComparison.Ordinal)).ToList();
        Assert.True(failures.Count >= 2, string.Join("\n", capture.Lines));
        for (var i = 0; i < failures.Count; i++)
        {
            Assert.Contains($"ws://127.0.0.1:{port}/vizhtml/socket (attempt {i + 1}):", failures[i], StringComparison.Ordinal);
            Assert.Contains("refused", failures[i], StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain(capture.Lines, l => l.Contains(Key, StringComparison.Ordinal));
    }

    [Theory, OnOwnHosts]
    public async Task StateGoesFromConnectingToConnectedAndTheHandlerSeesEachChange(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var client = new VizHtmlClient(server.HttpBase);
        var seen = new ConcurrentQueue<VizClientState>();
        using var subscription = client.OnStateChanged(seen.Enqueue);
        Assert.Equal(VizClientState.Closed, client.State);

        await client.StartAsync().WaitAsync(TestServer.Timeout);

        Assert.Equal(VizClientState.Connected, client.State);
        Assert.Equal([VizClientState.Connecting, VizClientState.Connected], seen.ToArray());

        await client.DisposeAsync().AsTask().WaitAsync(TestServer.Timeout);
        Assert.Equal(VizClientState.Closed, client.State);
        Assert.Equal([VizClientState.Connecting, VizClientState.Connected, VizClientState.Closed], seen.ToArray());
    }

    /// <summary>A port nothing listens on: taken from the system, then released.</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
