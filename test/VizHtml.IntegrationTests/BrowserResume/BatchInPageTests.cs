using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserResume;

/// <summary>Batching in Chromium: vizhtml.js announces it, and a burst arrives in array frames, handled once and in order.</summary>
public sealed class BatchInPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Theory]
    [OnEveryHost]
    public async Task ABurstArrivesInOrderOnceAndIsAcknowledged(TestHost host)
    {
        const int Count = 1000;
        await using var server = await TestServer.StartAsync(host);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        await using var context = await browser.NewContextAsync();
        var page = await ResumePage.OpenAsync(context, server.HttpBase, new { });
        var client = (await connects.WaitForCountAsync(1))[0].Client;
        await TestServer.WaitUntilAsync(() => client.Session.Connection.Batching);

        for (var i = 1; i <= Count; i++)
        {
            server.Server.SendAll("n", i);
        }

        await ResumePage.WaitAsync(page, "window.received.length >= arg", Count);
        Assert.Equal(Enumerable.Range(1, Count), await ResumePage.ReceivedNumbersAsync(page, "n"));

        // The page's acknowledgements (one decision per frame) empty the server's replay buffer.
        var session = client.Session;
        await TestServer.WaitUntilAsync(() => session.ReplayState() == (0, Count));
    }
}
