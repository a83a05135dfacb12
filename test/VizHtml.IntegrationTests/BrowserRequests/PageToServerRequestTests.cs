using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.BrowserResume;
using VizHtml.IntegrationTests.Faults;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserRequests;

/// <summary>
/// <c>socket.request(name, data, { timeoutMs })</c> in Chromium against <c>OnRequest</c>: answers, error answers, no
/// handler, timeout, and the answer across a forced reconnect (exactly once) or a lost session.
/// </summary>
public sealed class PageToServerRequestTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    public sealed record Sum(int A, int B);

    public sealed record Total(int Value);

    [Theory]
    [OnEveryHost]
    public async Task ARequestResolvesWithWhatTheAsyncOrSyncHandlerReturns(TestHost host)
    {
        await using var server = await StartAsync(host);
        server.Server.OnRequest<Sum, Total>("add", async (r, e) =>
        {
            await Task.Yield();
            return new Total(r.A + r.B);
        });
        server.Server.OnRequest<int, int>("double", (n, e) => n * 2);
        server.Server.OnRequest("who", e => e.Client.Id);
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, server.HttpBase);

        await RequestPage.AskAsync(page, "add", "add", new { a = 2, b = 3 });
        await RequestPage.AskAsync(page, "double", "double", 21);
        await RequestPage.AskAsync(page, "who", "who");

        Assert.Equal(5, (await RequestPage.OutcomeAsync(page, "add"))["value"]!["value"]!.GetValue<int>());
        Assert.Equal(42, (await RequestPage.OutcomeAsync(page, "double"))["value"]!.GetValue<int>());
        Assert.Equal(await ResumePage.EvalAsync<string>(page, "socket.id"), (await RequestPage.OutcomeAsync(page, "who"))["value"]!.GetValue<string>());
    }

    [Theory]
    [OnEveryHost]
    public async Task AHandlerThatThrowsRejectsWithHandlerErrorAndNoExceptionTextUnlessItThrewAVizRequestException(TestHost host)
    {
        await using var server = await StartAsync(host);
        server.Server.OnRequest<int, int>("leaky", (n, e) => Throw(new InvalidOperationException("secret: /home/lab/passwords.txt")));
        server.Server.OnRequest<int, int>("late_leaky", async (n, e) =>
        {
            await Task.Yield();
            return Throw(new InvalidOperationException("secret after an await"));
        });
        server.Server.OnRequest<int, int>("busy", (n, e) => Throw(new VizRequestException("busy", "the rig is busy")));
        server.Server.OnRequest<Sum, Total>("add", (r, e) => new Total(r.A + r.B));
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, server.HttpBase);

        await RequestPage.AskAsync(page, "leaky", "leaky", 1);
        await RequestPage.AskAsync(page, "late", "late_leaky", 1);
        await RequestPage.AskAsync(page, "busy", "busy", 1);
        await RequestPage.AskAsync(page, "shape", "add", "not a sum");

        foreach (var key in new[] { "leaky", "late" })
        {
            var outcome = await RequestPage.OutcomeAsync(page, key);
            Assert.False(outcome["ok"]!.GetValue<bool>());
            Assert.True(outcome["typed"]!.GetValue<bool>());
            Assert.Equal("handler_error", outcome["code"]!.GetValue<string>());
            Assert.DoesNotContain("secret", outcome["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        var busy = await RequestPage.OutcomeAsync(page, "busy");
        Assert.Equal(("busy", "the rig is busy"), (busy["code"]!.GetValue<string>(), busy["message"]!.GetValue<string>()));
        Assert.Equal("invalid_data", (await RequestPage.OutcomeAsync(page, "shape"))["code"]!.GetValue<string>());
    }

    [Theory]
    [OnEveryHost]
    public async Task WithDetailedErrorsTheHandlersExceptionMessageIsSent(TestHost host)
    {
        await using var server = await StartAsync(host, o => o.DetailedErrors = true);
        server.Server.OnRequest<int, int>("leaky", (n, e) => Throw(new InvalidOperationException("the sensor is unplugged")));
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, server.HttpBase);

        await RequestPage.AskAsync(page, "leaky", "leaky", 1);

        var outcome = await RequestPage.OutcomeAsync(page, "leaky");
        Assert.Equal(("handler_error", "the sensor is unplugged"), (outcome["code"]!.GetValue<string>(), outcome["message"]!.GetValue<string>()));
    }

    [Theory]
    [OnEveryHost]
    public async Task ARequestWithoutAHandlerRejectsWithNoHandlerAndMessageHandlersDoNotSeeIt(TestHost host)
    {
        await using var server = await StartAsync(host);
        var messages = new EventLog<VizMessageEvent>();
        server.Server.OnMessage(messages.Add);
        server.Server.OnMessage("after", _ => { });
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, server.HttpBase);

        await RequestPage.AskAsync(page, "nobody", "nobody", 1);
        var outcome = await RequestPage.OutcomeAsync(page, "nobody");
        await ResumePage.EvalAsync<bool>(page, "socket.send('after', 1)");
        await messages.WaitForCountAsync(1);

        Assert.Equal("no_handler", outcome["code"]!.GetValue<string>());
        Assert.Equal("after", Assert.Single(messages.Items).Event);
    }

    [Theory]
    [OnEveryHost]
    public async Task ARequestNotAnsweredWithinTimeoutMsRejectsWithTimeoutAndTheLateAnswerIsIgnored(TestHost host)
    {
        await using var server = await StartAsync(host);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Server.OnRequest<int, int>("slow", async (n, e) =>
        {
            started.TrySetResult();
            await release.Task;
            return n;
        });
        await using var context = await browser.NewContextAsync();

        // The page's timers run on Playwright's clock: the timeout passes without waiting for it.
        await context.Clock.InstallAsync();
        var page = await RequestPage.OpenAsync(context, server.HttpBase);
        await RequestPage.AskAsync(page, "slow", "slow", 7, new { timeoutMs = 20_000 });
        await started.Task.WaitAsync(TestServer.Timeout);
        Assert.False(await RequestPage.SettledAsync(page, "slow"));

        await context.Clock.FastForwardAsync(21_000);
        var outcome = await RequestPage.OutcomeAsync(page, "slow");
        release.SetResult();

        Assert.Equal("timeout", outcome["code"]!.GetValue<string>());

        // The answer comes after all: the promise stays rejected, and the page goes on.
        await RequestPage.AskAsync(page, "again", "slow", 8);
        Assert.Equal(8, (await RequestPage.OutcomeAsync(page, "again"))["value"]!.GetValue<int>());
        Assert.Equal("timeout", (await RequestPage.OutcomeAsync(page, "slow"))["code"]!.GetValue<string>());
    }

    [Theory]
    [OnEveryHost]
    public async Task RequestsAcrossAForcedReconnectAreAnsweredExactlyOnce(TestHost host)
    {
        await using var server = await StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        server.Server.OnConnect(connects.Add);
        server.Server.OnDisconnect(disconnects.Add);
        var runs = new EventLog<string>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Server.OnRequest<int, int>("slow", async (n, e) =>
        {
            runs.Add("slow");
            started.TrySetResult();
            await release.Task;
            return n * 10;
        });
        server.Server.OnRequest<int, int>("quick", (n, e) =>
        {
            runs.Add("quick");
            return n + 1;
        });
        await using var proxy = new FaultProxy(server.Server.Port);
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, proxy.HttpBase);
        await connects.WaitForCountAsync(1);

        // One the server took before the cut, answered while the page is away; one asked while cut off.
        await RequestPage.AskAsync(page, "slow", "slow", 4);
        await started.Task.WaitAsync(TestServer.Timeout);
        proxy.GoDown();
        await ResumePage.WaitAsync(page, "!socket.isConnected()");

        // The disconnect event waits its turn behind the running handler, as any event would.
        release.SetResult();
        await disconnects.WaitForCountAsync(1);
        await RequestPage.AskAsync(page, "quick", "quick", 1);
        proxy.GoUp();

        Assert.Equal(40, (await RequestPage.OutcomeAsync(page, "slow"))["value"]!.GetValue<int>());
        Assert.Equal(2, (await RequestPage.OutcomeAsync(page, "quick"))["value"]!.GetValue<int>());
        var back = (await connects.WaitForCountAsync(2))[1];
        Assert.True(back.Resumed && back.Recovered);
        Assert.Equal(["slow", "quick"], runs.Items);
    }

    [Theory]
    [OnEveryHost]
    public async Task APendingRequestRejectsWithSessionLostWhenThePageClosesOrAResumeIsNotRecovered(TestHost host)
    {
        await using var server = await StartAsync(host, o => o.ReplayBufferMessages = 5);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        server.Server.OnConnect(connects.Add);
        server.Server.OnDisconnect(disconnects.Add);
        var started = new EventLog<int>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Server.OnRequest<int, int>("slow", async (n, e) =>
        {
            started.Add(n);
            await release.Task;
            return n;
        });
        await using var proxy = new FaultProxy(server.Server.Port);
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, proxy.HttpBase);
        var client = (await connects.WaitForCountAsync(1))[0].Client;

        // The server took it; its answer and more than the replay buffer keeps are written while the page is away.
        await RequestPage.AskAsync(page, "gap", "slow", 1);
        await started.WaitForCountAsync(1);
        proxy.GoDown();
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        release.SetResult();
        await disconnects.WaitForCountAsync(1);
        for (var i = 0; i < 20; i++)
        {
            client.Send("filler", i);
        }

        proxy.GoUp();
        var gap = await RequestPage.OutcomeAsync(page, "gap");
        Assert.False((await connects.WaitForCountAsync(2))[1].Recovered);
        Assert.Equal("session_lost", gap["code"]!.GetValue<string>());

        // Closed by the page with a request still waiting.
        var hold = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Server.OnRequest<int, int>("forever", (n, e) => new ValueTask<int>(hold.Task));
        await RequestPage.AskAsync(page, "closed", "forever", 2);
        await ResumePage.EvalAsync<object?>(page, "socket.close()");
        Assert.Equal("session_lost", (await RequestPage.OutcomeAsync(page, "closed"))["code"]!.GetValue<string>());
        hold.SetResult(0);
    }

    [Theory]
    [OnEveryHost]
    public async Task AProtocolOnePageGetsNotSupported(TestHost host)
    {
        await using var server = await StartAsync(host);
        server.Server.OnRequest<int, int>("double", (n, e) => n * 2);
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, server.HttpBase, new { protocol = 1 });

        await RequestPage.AskAsync(page, "v1", "double", 1);

        Assert.Equal("not_supported", (await RequestPage.OutcomeAsync(page, "v1"))["code"]!.GetValue<string>());
    }

    // A handler that only throws needs a result type, or its lambda fits the sync and async overloads alike.
    private static int Throw(Exception ex) => throw ex;

    private static async Task<TestServer> StartAsync(TestHost host, Action<VizHtmlOptions>? configure = null)
    {
        var server = await TestServer.StartAsync(host, configure);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        return server;
    }
}
