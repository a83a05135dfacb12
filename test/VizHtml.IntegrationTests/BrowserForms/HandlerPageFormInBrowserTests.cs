using System.Net;
using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.BrowserForms;

/// <summary>The original's custom-handler sample in Chromium: a page its handler writes, a form on it, and an onFormSubmit handler.</summary>
public sealed class HandlerPageFormInBrowserTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string Message = "Grüße & = 100% ü€";

    private const string FormHtml = """
        <!DOCTYPE html>
        <html>
        <head><meta charset="utf-8"><title>Custom handler</title></head>
        <body>
          <form method="post">
            <label>Message <input name="message"></label>
            <button id="send" type="submit">Send</button>
          </form>
        </body>
        </html>
        """;

    [Theory]
    [OnEveryHost]
    public async Task AFormChromiumPostsToAHandlerPageGetsTheHandlersAnswerAndThenRaisesTheFormSubmitEvent(TestHost host)
    {
        var serverLog = new ServerLog();
        await using var server = await TestServer.StartAsync(host, o => o.LoggerFactory = serverLog.Factory);
        var order = new EventLog<string>();
        server.Server.RegisterHandler("custom", request =>
        {
            if (request.Form is not { } form)
            {
                return VizResponse.Html(FormHtml);
            }

            order.Add("handler: " + form["message"]);
            return VizResponse.Html($"<!DOCTYPE html><meta charset=\"utf-8\"><p id=\"thanks\">Thanks for: {WebUtility.HtmlEncode(form["message"])}</p>");
        });
        using var subscription = server.Server.OnFormSubmit(e => order.Add($"form submit from {e.Page}: {e["message"]}"));
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageErrors = PageDiagnostics.CollectPageErrors(page);
        var pageUrl = $"{server.HttpBase}vizhtml/custom/";

        await page.GotoAsync(pageUrl);
        await page.FillAsync("input[name=message]", Message);
        var answer = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#send"), r => r.Request.Method == "POST");

        Assert.Equal(200, answer.Status);
        Assert.Equal(pageUrl, answer.Url);
        await Expect(page.Locator("#thanks")).ToHaveTextAsync("Thanks for: " + Message);
        Assert.Equal(["handler: " + Message, "form submit from custom: " + Message], await order.WaitForCountAsync(2));
        Assert.Empty(pageErrors);
        Assert.Empty(serverLog.Errors);
    }
}
