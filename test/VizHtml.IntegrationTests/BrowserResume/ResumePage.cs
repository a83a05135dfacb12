using System.Text.Json;
using Microsoft.Playwright;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserResume;

/// <summary>
/// A test page whose socket takes its options from the <c>options</c> query parameter (JSON) and records every server
/// event in <c>window.received</c> and every connection event ('open', 'close', 'resync', 'overflow') in
/// <c>window.connection</c>. <c>window.sendNumbers(n, everyMs)</c> sends <c>m</c> 1..n at a steady pace.
/// </summary>
public static class ResumePage
{
    public const string Name = "resume";

    public const string Html = """
        <!DOCTYPE html>
        <html>
        <head>
          <meta charset="utf-8">
          <title>resume</title>
          <script src="vizhtml.js"></script>
        </head>
        <body>
          <script>
            window.received = [];
            window.connection = [];
            window.sent = 0;
            window.refused = 0;
            const options = JSON.parse(new URLSearchParams(location.search).get('options') || '{}');
            window.socket = new viz.WebSocket(undefined, options);
            for (const name of ['open', 'close', 'resync', 'overflow']) {
              socket.onevent(name, function (e) { window.connection.push(Object.assign({ state: this.state }, e)); });
            }
            socket.onevent('*', function (e) { window.received.push({ event: e.event, data: e.data }); });
            window.sendNumbers = function (n, everyMs) {
              const timer = setInterval(function () {
                window.sent += 1;
                if (!socket.send('m', window.sent)) window.refused += 1;
                if (window.sent >= n) clearInterval(timer);
              }, everyMs);
            };
          </script>
        </body>
        </html>
        """;

    private static readonly PageWaitForFunctionOptions Poll = new() { PollingInterval = 20 };

    /// <summary>Socket options that reconnect by themselves, quickly, as the tests need.</summary>
    public static readonly object Reconnecting = new { autoReconnect = true, reconnect = new { initialDelayMs = 50, maxDelayMs = 200 } };

    /// <summary>
    /// Opens the page from <paramref name="httpBase"/> (the server, or a relay in front of it) with the given socket
    /// options and waits until the socket is open.
    /// </summary>
    public static async Task<IPage> OpenAsync(IBrowserContext context, Uri httpBase, object options)
    {
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var query = "?options=" + Uri.EscapeDataString(JsonSerializer.Serialize(options));
        await page.GotoAsync($"{httpBase}vizhtml/{Name}/{query}");
        await WaitAsync(page, "socket.isConnected()");
        return page;
    }

    /// <summary>Waits until <paramref name="expression"/> (evaluated in the page) is truthy.</summary>
    public static Task WaitAsync(IPage page, string expression, object? arg = null) =>
        page.WaitForFunctionAsync($"arg => {expression}", arg, Poll);

    public static Task<T> EvalAsync<T>(IPage page, string expression, object? arg = null) =>
        page.EvaluateAsync<T>($"arg => {expression}", arg).WaitAsync(TestServer.Timeout);

    /// <summary>The data of every received event named <paramref name="eventName"/>, as integers, in arrival order.</summary>
    public static Task<int[]> ReceivedNumbersAsync(IPage page, string eventName) =>
        EvalAsync<int[]>(page, "window.received.filter(e => e.event === arg).map(e => e.data)", eventName);

    /// <summary>The connection events so far, as "name" or "name:detail" (resync reason, overflow count, close code).</summary>
    public static Task<string[]> ConnectionEventsAsync(IPage page) =>
        EvalAsync<string[]>(
            page,
            """
            window.connection.map(e =>
              e.event === 'resync' ? 'resync:' + e.reason
              : e.event === 'overflow' ? 'overflow:' + e.dropped
              : e.event)
            """);
}
