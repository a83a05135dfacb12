using Microsoft.Playwright;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>
/// A test page that records every server event into <c>window.received</c> and, once connected, says
/// <c>hello</c> with the <c>who</c> query parameter so a test can tell which <see cref="VizClient"/> it is.
/// </summary>
public static class RecorderPage
{
    public const string Name = "recorder";

    public const string Html = """
        <!DOCTYPE html>
        <html>
        <head>
          <meta charset="utf-8">
          <title>recorder</title>
          <script src="vizhtml.js"></script>
        </head>
        <body>
          <p id="status">waiting for connection</p>
          <script>
            window.received = [];
            window.socket = new viz.WebSocket();
            socket.onevent('open', function () {
              document.getElementById('status').textContent = 'connected';
              this.send('hello', new URLSearchParams(location.search).get('who'));
            });
            socket.onevent('close', function () {
              document.getElementById('status').textContent = 'closed';
            });
            socket.onevent('*', function (e) {
              window.received.push({ event: e.event, data: e.data });
            });
          </script>
        </body>
        </html>
        """;

    /// <summary>Registers the page and collects its <c>hello</c> events; call before opening pages.</summary>
    public static EventLog<VizMessageEvent> Register(VizHtmlServer server)
    {
        var hellos = new EventLog<VizMessageEvent>();
        server.RegisterHtml(Name, Html);
        server.OnMessage("hello", hellos.Add);
        return hellos;
    }

    /// <summary>Opens the page as <paramref name="who"/> and returns it with its server-side client once it said hello.</summary>
    public static Task<(IPage Page, VizClient Client)> OpenAsync(IBrowserContext context, TestServer server, EventLog<VizMessageEvent> hellos, string who) =>
        OpenAsync(context, server.HttpBase, hellos, who);

    /// <summary>Opens the page from <paramref name="httpBase"/> (an app's root, path base included; VizHtml at <c>vizhtml/</c> below it).</summary>
    public static async Task<(IPage Page, VizClient Client)> OpenAsync(IBrowserContext context, Uri httpBase, EventLog<VizMessageEvent> hellos, string who)
    {
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        await page.GotoAsync($"{httpBase}vizhtml/{Name}/?who={Uri.EscapeDataString(who)}");
        IReadOnlyList<VizMessageEvent> all;
        try
        {
            all = await hellos.WaitForAsync(items => items.Any(e => IsHelloFrom(e, who)));
        }
        catch (TimeoutException ex)
        {
            var status = await page.Locator("#status").TextContentAsync(new LocatorTextContentOptions { Timeout = 1000 });
            throw new TimeoutException($"Page '{who}' did not say hello within {TestServer.Timeout.TotalSeconds} s; its status reads '{status}'.", ex);
        }

        var client = all.Single(e => IsHelloFrom(e, who)).Client;
        return (page, client);
    }

    /// <summary>Waits until the page has received at least <paramref name="count"/> events named <paramref name="eventName"/>.</summary>
    public static Task WaitForReceivedAsync(IPage page, string eventName, int count) =>
        page.WaitForFunctionAsync(
            "([name, count]) => window.received.filter(e => e.event === name).length >= count",
            new object[] { eventName, count },
            new PageWaitForFunctionOptions { PollingInterval = 25 });

    /// <summary>What the page has received so far, as the JSON text of <c>window.received</c>.</summary>
    public static Task<string> ReceivedJsonAsync(IPage page) =>
        page.EvaluateAsync<string>("() => JSON.stringify(window.received)").WaitAsync(TestServer.Timeout);

    private static bool IsHelloFrom(VizMessageEvent e, string who) =>
        e.Data.Kind == VizDataKind.String && e.Data.GetString() == who;
}
