using Microsoft.Playwright;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.BrowserForms;

/// <summary>
/// Full-page screenshots for a person to look at, written only when the environment variable
/// <c>VIZHTML_SCREENSHOT_DIR</c> names a folder (never into the repository, never by default).
/// </summary>
public static class Screenshots
{
    public const string DirectoryVariable = "VIZHTML_SCREENSHOT_DIR";

    public static async Task SaveAsync(IPage page, string name)
    {
        var directory = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrEmpty(directory))
        {
            return;
        }

        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Path.Combine(directory, name + ".png"),
            FullPage = true,
            Timeout = (float)TestServer.Timeout.TotalMilliseconds,
        });
    }
}
