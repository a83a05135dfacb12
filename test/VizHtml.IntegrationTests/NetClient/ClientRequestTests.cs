using VizHtml.IntegrationTests.Faults;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.NetClient;

/// <summary>Requests between a <see cref="VizHtmlClient"/> and the server, both ways, with the codes and resume semantics of the page's.</summary>
public sealed class ClientRequestTests
{
    public sealed record Sum(int A, int B);

    [Theory, OnOwnHosts]
    public async Task RequestsGoBothWaysWithAnswersAndErrorCodes(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        server.Server.OnRequest<Sum, int>("add", async (r, e) =>
        {
            await Task.Yield();
            return r.A + r.B;
        });
        server.Server.OnRequest<int, int>("busy", (n, e) => Throw(new VizRequestException("busy", "later")));
        await using var client = new VizHtmlClient(server.HttpBase, Options());
        client.OnRequest<string, string>("greet", (name, e) => $"hello {name}");
        client.OnRequest<int, int>("leaky", (n, e) => Throw(new InvalidOperationException("secret")));
        client.OnRequest<int, int>("refuse", async (n, e) =>
        {
            await Task.Yield();
            return Throw(new VizRequestException("declined", "no"));
        });
        await client.StartAsync().WaitAsync(TestServer.Timeout);
        var serverSide = (await connects.WaitForCountAsync(1))[0].Client;

        Assert.Equal(5, await client.RequestAsync<int>("add", new Sum(2, 3)).WaitAsync(TestServer.Timeout));
        Assert.Equal("busy", (await Assert.ThrowsAsync<VizRequestException>(() => client.RequestAsync<int>("busy", 1).WaitAsync(TestServer.Timeout))).Code);
        Assert.Equal("no_handler", (await Assert.ThrowsAsync<VizRequestException>(() => client.RequestAsync<int>("nobody").WaitAsync(TestServer.Timeout))).Code);
        Assert.Equal("invalid_data", (await Assert.ThrowsAsync<VizRequestException>(() => client.RequestAsync<int>("add", "x").WaitAsync(TestServer.Timeout))).Code);

        Assert.Equal("hello lab", await serverSide.RequestAsync<string>("greet", "lab").WaitAsync(TestServer.Timeout));
        var leaky = await Assert.ThrowsAsync<VizRequestException>(() => serverSide.RequestAsync<int>("leaky", 1).WaitAsync(TestServer.Timeout));
        Assert.Equal("handler_error", leaky.Code);
        Assert.DoesNotContain("secret", leaky.Message, StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<VizRequestException>(() => serverSide.RequestAsync<int>("refuse", 1).WaitAsync(TestServer.Timeout));
        Assert.Equal(("declined", "no"), (refused.Code, refused.Message));
        Assert.Equal("no_handler", (await Assert.ThrowsAsync<VizRequestException>(() => serverSide.RequestAsync<int>("nobody").WaitAsync(TestServer.Timeout))).Code);
    }

    [Theory, OnOwnHosts]
    public async Task RequestsMadeWhileCutOffAreAnsweredOnceAfterTheResume(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        server.Server.OnConnect(connects.Add);
        server.Server.OnDisconnect(disconnects.Add);
        var serverRuns = 0;
        server.Server.OnRequest<int, int>("double", (n, e) =>
        {
            Interlocked.Increment(ref serverRuns);
            return n * 2;
        });
        await using var proxy = new FaultProxy(server.Server.Port);
        await using var client = new VizHtmlClient(proxy.HttpBase, Options());
        var clientRuns = 0;
        client.OnRequest<int, int>("triple", (n, e) =>
        {
            Interlocked.Increment(ref clientRuns);
            return n * 3;
        });
        var changes = new EventLog<VizClientConnectionEvent>();
        client.OnConnectionChanged(changes.Add);
        await client.StartAsync().WaitAsync(TestServer.Timeout);
        var serverSide = (await connects.WaitForCountAsync(1))[0].Client;

        proxy.GoDown();
        await disconnects.WaitForCountAsync(1);
        await changes.WaitForAsync(items => items.Any(e => !e.Connected));
        var fromClient = client.RequestAsync<int>("double", 4);
        var fromServer = serverSide.RequestAsync<int>("triple", 5);
        proxy.GoUp();

        Assert.Equal(8, await fromClient.WaitAsync(TestServer.Timeout));
        Assert.Equal(15, await fromServer.WaitAsync(TestServer.Timeout));
        Assert.True((await connects.WaitForCountAsync(2))[1].Recovered);
        Assert.Equal((1, 1), (serverRuns, clientRuns));
    }

    [Theory, OnOwnHosts]
    public async Task WaitingRequestsFailWithSessionLostWhenTheClientIsDisposed(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var disconnects = new EventLog<VizDisconnectEvent>();
        server.Server.OnDisconnect(disconnects.Add);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hold = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Server.OnRequest<int, int>("forever", (n, e) =>
        {
            started.TrySetResult();
            return new ValueTask<int>(hold.Task);
        });
        var client = new VizHtmlClient(server.HttpBase, Options());
        await client.StartAsync().WaitAsync(TestServer.Timeout);

        var waiting = client.RequestAsync<int>("forever", 1);
        await started.Task.WaitAsync(TestServer.Timeout);
        await client.DisposeAsync();

        Assert.Equal("session_lost", (await Assert.ThrowsAsync<VizRequestException>(() => waiting.WaitAsync(TestServer.Timeout))).Code);
        hold.SetResult(0);
        await disconnects.WaitForCountAsync(1);
    }

    private static int Throw(Exception ex) => throw ex;

    private static VizHtmlClientOptions Options() => new()
    {
        InitialReconnectDelay = TimeSpan.FromMilliseconds(20),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(100),
    };
}
