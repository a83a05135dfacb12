using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Security;

/// <summary>The issue's own steps in Chromium: the key travels as a browser and <c>vizhtml.js</c> carry it, and no log line holds it.</summary>
public sealed class KeyRedactionInBrowserTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string Page = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>panel</title><script src="vizhtml.js"></script></head>
        <body><script>
          const socket = new viz.WebSocket();
          socket.onevent('open', () => socket.send('hello', location.pathname));
        </script></body></html>
        """;

    [Theory]
    [OnEveryHost]
    public async Task APageOpenedFromTheIndexLinkAndItsSocketLeaveNoSpellingOfTheKeyInAnyLogLine(TestHost host)
    {
        var capture = new CapturingLoggerProvider();
        var hellos = new EventLog<VizMessageEvent>();
        await using (var server = await LoggedServer.StartAsync(host, KeyRedactionTests.EveryCharacter, capture))
        {
            server.Server.RegisterHtml("p", Page);
            server.Server.OnMessage("hello", hellos.Add);
            await using var context = await browser.NewContextAsync();
            var page = await context.NewPageAsync();

            // The index as the program prints it, then its link (the URL its QR code holds), then the page's socket.
            await page.GotoAsync(server.Server.GetServerUrl().ToString());
            await page.Locator("li.page a").ClickAsync();
            await hellos.WaitForCountAsync(1);
            Assert.Equal("/vizhtml/p/", hellos.Items[0].Data.GetString());

            // vizhtml.js escapes the key as the server's URLs do (RFC 3986), though the redaction does not rely on it.
            var expected = $"ws://127.0.0.1:{server.Port}/vizhtml/socket?v=2&key={Uri.EscapeDataString(KeyRedactionTests.EveryCharacter)}";
            Assert.Equal(expected, await page.EvaluateAsync<string>("() => socket.url"));
        }

        var lines = capture.Lines.ToArray();
        var requestLog = host == TestHost.Standalone ? "VizHtml.Http" : "Microsoft.AspNetCore.Hosting.Diagnostics";
        Assert.Contains(lines, l => l.StartsWith(requestLog, StringComparison.Ordinal) && l.Contains("/vizhtml/socket?v=2&key=", StringComparison.Ordinal));
        KeyRedactionTests.AssertNoSpellingIn(lines, KeyRedactionTests.EveryCharacter);
    }
}
