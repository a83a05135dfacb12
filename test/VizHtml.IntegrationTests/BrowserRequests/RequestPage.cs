using System.Text.Json.Nodes;
using Microsoft.Playwright;
using VizHtml.IntegrationTests.BrowserResume;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserRequests;

/// <summary>
/// Requests in the page of <see cref="ResumePage"/>: <c>window.ask(key, name, data, options)</c> calls
/// <c>socket.request</c> and keeps how it settled in <c>window.outcomes[key]</c>; <c>window.asked</c> counts the server
/// requests the page's handlers (added by the tests) have seen.
/// </summary>
internal static class RequestPage
{
    private const string Helpers = """
        () => {
          window.outcomes = {};
          window.asked = 0;
          window.ask = (key, name, data, options) => {
            socket.request(name, data, options).then(
              (value) => { window.outcomes[key] = { ok: true, value }; },
              (e) => { window.outcomes[key] = { ok: false, code: e.code, message: e.message, typed: e instanceof viz.RequestError }; });
          };
        }
        """;

    /// <summary>Opens the page (see <see cref="ResumePage.OpenAsync"/>) and adds the helpers.</summary>
    public static async Task<IPage> OpenAsync(IBrowserContext context, Uri httpBase, object? options = null)
    {
        var page = await ResumePage.OpenAsync(context, httpBase, options ?? ResumePage.Reconnecting);
        await page.EvaluateAsync(Helpers).WaitAsync(TestServer.Timeout);
        return page;
    }

    /// <summary>Starts a request in the page; its outcome is read with <see cref="OutcomeAsync"/>.</summary>
    public static Task AskAsync(IPage page, string key, string name, object? data = null, object? options = null) =>
        page.EvaluateAsync("a => window.ask(a.key, a.name, a.data, a.options)", new { key, name, data, options }).WaitAsync(TestServer.Timeout);

    /// <summary>Waits until the request <paramref name="key"/> has settled and returns how: <c>{ok, value}</c> or <c>{ok, code, message, typed}</c>.</summary>
    public static async Task<JsonObject> OutcomeAsync(IPage page, string key)
    {
        await ResumePage.WaitAsync(page, "window.outcomes[arg] !== undefined", key);
        return (JsonObject)JsonNode.Parse(await ResumePage.EvalAsync<string>(page, "JSON.stringify(window.outcomes[arg])", key))!;
    }

    /// <summary>Whether the request <paramref name="key"/> has settled yet.</summary>
    public static Task<bool> SettledAsync(IPage page, string key) => ResumePage.EvalAsync<bool>(page, "window.outcomes[arg] !== undefined", key);

    /// <summary>Adds a page request handler: <paramref name="body"/> is the function's source, e.g. <c>e => e.data * 2</c>.</summary>
    public static Task AnswerAsync(IPage page, string name, string body) =>
        page.EvaluateAsync($"name => {{ socket.onrequest(name, function (e) {{ window.asked += 1; return ({body}).call(this, e); }}); }}", name).WaitAsync(TestServer.Timeout);
}
