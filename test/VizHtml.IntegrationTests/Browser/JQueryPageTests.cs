using Microsoft.Playwright;
using VizHtml.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>
/// A page in the original's style: it loads <c>jquery.js</c> and <c>vizhtml.js</c> by relative URL, runs everything in
/// <c>$(document).ready(...)</c>, and shows an image from the program's current directory (<c>directory: ""</c>).
/// </summary>
[Collection("ProcessEnvironment")]
public sealed class JQueryPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string PageName = "websocket";

    private const string Html = """
        <!DOCTYPE html>
        <html>
        <head>
          <meta charset="utf-8">
          <title>jQuery page</title>
          <script type="text/javascript" src="jquery.js"></script>
          <script type="text/javascript" src="vizhtml.js"></script>
          <script type="text/javascript">
            $(document).ready(function () {
              var socket = new viz.WebSocket();
              $('#controls :input').prop('disabled', true);

              socket.onevent('open', function (e) {
                $('#status').html('connected');
                $('#controls :input').prop('disabled', false);
              });

              socket.onevent('close', function (e) {
                $('#status').html('waiting for connection');
                $('#controls :input').prop('disabled', true);
              });

              socket.onevent('greeting', function (e) {
                $('#greeting').html(e.data.html);
              });

              socket.onevent('lock', function (e) {
                $('#controls :input').prop('disabled', true);
              });

              var count = 0;
              $('#my_button').click(function () {
                count += 1;
                socket.send('button_click', viz.Data({ count: count }));
              });

              $('#my_text').keyup(function () {
                socket.send('text_changed', viz.Data({ value: $(this).val() }));
              });
            });
          </script>
        </head>
        <body>
          <p>Status: <span id="status">waiting for connection</span></p>
          <div id="controls">
            <button id="my_button">Click me</button>
            <input type="text" id="my_text">
          </div>
          <p id="greeting"></p>
          <img id="picture" src="picture.png" alt="picture">
        </body>
        </html>
        """;

    // A valid 1x1 PNG.
    private static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    [Theory]
    [OnEveryHost]
    public async Task AnOriginalStylePageRunsItsJQueryCodeSendsClicksAndKeysAndShowsAnImageFromTheCurrentDirectory(TestHost host)
    {
        var serverLog = new ServerLog();
        await using var server = await TestServer.StartAsync(host, o => o.LoggerFactory = serverLog.Factory);
        var folder = Directory.CreateTempSubdirectory("vizhtml-jquery-");
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(folder.FullName, "picture.png"), Png);
            var before = Environment.CurrentDirectory;
            Environment.CurrentDirectory = folder.FullName;
            try
            {
                server.Server.RegisterHtml(PageName, Html, directory: "");
            }
            finally
            {
                Environment.CurrentDirectory = before;
            }

            var clicks = new EventLog<int>();
            var texts = new EventLog<string>();
            server.Server.OnMessage("button_click", e =>
            {
                dynamic data = e.Data;
                clicks.Add((int)data.count);
            });
            server.Server.OnMessage("text_changed", e =>
            {
                dynamic data = e.Data;
                texts.Add((string)data.value);
            });

            await using var context = await browser.NewContextAsync();
            var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
            var pageErrors = PageDiagnostics.CollectPageErrors(page);

            await page.GotoAsync($"{server.HttpBase}vizhtml/{PageName}/");

            await Expect(page.Locator("#status")).ToHaveTextAsync("connected");
            await Expect(page.Locator("#my_button")).ToBeEnabledAsync();
            await Expect(page.Locator("#my_text")).ToBeEnabledAsync();
            Assert.StartsWith("3.", await page.EvaluateAsync<string>("() => jQuery.fn.jquery"), StringComparison.Ordinal);

            await page.ClickAsync("#my_button");
            await page.ClickAsync("#my_button");
            Assert.Equal(new[] { 1, 2 }, await clicks.WaitForCountAsync(2));

            await page.Locator("#my_text").PressSequentiallyAsync("abc");
            Assert.Equal(new[] { "a", "ab", "abc" }, await texts.WaitForCountAsync(3));

            Assert.Equal(1, server.Server.SendAll("greeting", new { html = "<b>hello</b> from the server" }));
            await Expect(page.Locator("#greeting b")).ToHaveTextAsync("hello");
            await Expect(page.Locator("#greeting")).ToHaveTextAsync("hello from the server");

            Assert.Equal(1, server.Server.SendAll("lock", null));
            await Expect(page.Locator("#my_button")).ToBeDisabledAsync();
            await Expect(page.Locator("#my_text")).ToBeDisabledAsync();

            var picture = page.Locator("#picture");
            await page.WaitForFunctionAsync("() => document.querySelector('#picture').complete");
            Assert.Equal(1, await picture.EvaluateAsync<int>("img => img.naturalWidth"));
            Assert.Equal(1, await picture.EvaluateAsync<int>("img => img.naturalHeight"));

            Assert.Empty(pageErrors);
            Assert.Empty(serverLog.Errors);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
