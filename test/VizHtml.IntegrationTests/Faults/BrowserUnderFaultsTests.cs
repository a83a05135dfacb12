using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.BrowserResume;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Faults;

/// <summary>Chromium running <c>vizhtml.js</c> through the fault proxy: a hundred cuts while ten thousand events flow each way.</summary>
public sealed class BrowserUnderFaultsTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const int Events = 10_000;
    private const int Rounds = 100;

    [Theory, OnOwnHosts]
    public async Task TenThousandEventsEachWayReachChromiumAndTheServerExactlyOnceInOrderAcrossAHundredCuts(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.CloseTimeout = TimeSpan.FromSeconds(1);
            o.MaxMessagesPerSecond = 1_000_000;
        });
        test.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var fromPage = new List<int>();
        var serverDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        test.Server.OnMessage("m", e =>
        {
            fromPage.Add(e.Data.GetInt32());
            if (fromPage.Count == Events)
            {
                serverDone.TrySetResult();
            }
        });
        var connects = new EventLog<VizConnectEvent>();
        test.Server.OnConnect(connects.Add);
        await using var proxy = new FaultProxy(test.Server.Port);
        await using var context = await browser.NewContextAsync();
        var page = await ResumePage.OpenAsync(context, new Uri($"http://127.0.0.1:{proxy.Port}/"), new
        {
            autoReconnect = true,
            reconnect = new { initialDelayMs = 10, maxDelayMs = 100 },
            offlineQueue = new { maxMessages = Events },
        });

        var next = 1;
        var round = 0;
        try
        {
            for (; round < Rounds; round++)
            {
                var from = next;
                for (var i = 0; i < Events / Rounds; i++, next++)
                {
                    test.Server.SendAll("n", next);
                }

                await ResumePage.EvalAsync<int>(page, "(() => { for (let i = arg[0]; i < arg[1]; i++) socket.send('m', i); return 0; })()", new[] { from, next });
                await ResumePage.WaitAsync(page, "socket.isConnected()");
                switch (round % 4)
                {
                    case 0:
                    case 1:
                        proxy.CutAll();
                        break;
                    case 2:
                        proxy.CutInTheMiddleOfTheNextFrame();
                        test.Server.SendAll("filler", new string('x', 4000));
                        await TestServer.WaitUntilAsync(() => !proxy.MidFrameCutPending);

                        break;
                    case 3:
                        proxy.SliceIntoSingleBytes = !proxy.SliceIntoSingleBytes;
                        proxy.CutAll();
                        break;
                }
            }

            // A cut can find its link already gone (a reconnect in flight); make up the count.
            while (proxy.Cuts < Rounds)
            {
                await ResumePage.WaitAsync(page, "socket.isConnected()");
                proxy.CutAll();
            }

            proxy.SliceIntoSingleBytes = false;
            await ResumePage.WaitAsync(page, "window.received.filter(e => e.event === 'n').length >= arg", Events);
            await serverDone.Task.WaitAsync(TestServer.Timeout * 3);
        }
        catch (TimeoutException ex)
        {
            var state = await ResumePage.EvalAsync<string>(page, "(() => { const n = window.received.filter(e => e.event === 'n').map(e => e.data); const missing = []; for (let i = 1; i <= 10000 && missing.length < 5; i++) if (!n.includes(i)) missing.push(i); return JSON.stringify({ state: socket.state, received: n.length, missing, lastSeq: socket.lastSeq, connection: window.connection.slice(-6) }); })()");
            throw new TimeoutException($"round {round}, cuts {proxy.Cuts}, server has {fromPage.Count}; page: {state}", ex);
        }

        Assert.True(proxy.Cuts >= Rounds, $"only {proxy.Cuts} cuts");
        Assert.Equal(Enumerable.Range(1, Events), await ResumePage.ReceivedNumbersAsync(page, "n"));
        Assert.Equal(Enumerable.Range(1, Events), fromPage);
        Assert.True(await ResumePage.EvalAsync<bool>(page, "socket.recovered === true"));
        Assert.All(connects.Items.Skip(1), e => Assert.True(e.Resumed && e.Recovered, $"resumed {e.Resumed}, recovered {e.Recovered}"));
        Assert.Equal(0, await ResumePage.EvalAsync<int>(page, "window.connection.filter(e => e.event === 'resync' || e.event === 'overflow').length"));
    }
}
