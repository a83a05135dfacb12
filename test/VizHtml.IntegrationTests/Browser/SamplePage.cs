using System.Globalization;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>
/// The WebSocket sample's page (samples/WebSocketExample/websocket.html) as a user sees it, whichever program serves it:
/// the .NET 10 sample on every host, the Mono scenario, the .NET 8 publish.
/// </summary>
public static class SamplePage
{
    public static readonly PageWaitForFunctionOptions Poll = new() { PollingInterval = 25 };

    /// <summary>Opens <paramref name="url"/> (without its trailing slash), lands on the slash form, and sees it connect and the server's clock tick.</summary>
    public static async Task OpenAndSeeTheClockTickAsync(IPage page, string url)
    {
        await page.GotoAsync(url);

        Assert.Equal(url + "/", page.Url);
        await Expect(page.Locator("#status")).ToHaveTextAsync("connected");
        await Expect(page.Locator("#my_button")).ToBeEnabledAsync();
        await SeeTheClockTickAsync(page);
    }

    /// <summary>The clock ticks every 0.1 s: the field must fill and then move forward.</summary>
    public static async Task SeeTheClockTickAsync(IPage page)
    {
        await page.WaitForFunctionAsync("() => document.querySelector('#script_time').value !== ''", null, Poll);
        var first = await page.InputValueAsync("#script_time");
        await page.WaitForFunctionAsync("v => document.querySelector('#script_time').value !== v", first, Poll);
        var second = await page.InputValueAsync("#script_time");
        Assert.True(
            double.Parse(second, CultureInfo.InvariantCulture) > double.Parse(first, CultureInfo.InvariantCulture),
            $"The time went from '{first}' to '{second}'.");
    }

    public static async Task ClickAsync(IPage page, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await page.ClickAsync("#my_button");
        }
    }
}
