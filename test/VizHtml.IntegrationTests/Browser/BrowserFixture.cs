using Microsoft.Playwright;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>
/// One headless Chromium (Debian's <c>/usr/bin/chromium</c>) per test class; each test takes a fresh context from
/// <see cref="NewContextAsync"/>. A missing browser fails every test of the class: it never skips.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser fixture is not initialized.");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"Chromium was not found at {ChromiumPath}. The browser tests drive Debian's chromium package: install it with "
                + "scripts/test.sh (or 'apt-get install chromium'). Do not run 'playwright install'.");
        }

        // The driver must never fetch a browser of its own.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Assertions.SetDefaultExpectTimeout((float)TestServer.Timeout.TotalMilliseconds);
        // Starting the driver (a Node process) takes longer on a busy machine than any one test step may.
        _playwright = await Playwright.CreateAsync().WaitAsync(TestServer.Timeout * 3);
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = (float)(TestServer.Timeout * 3).TotalMilliseconds,
        });
    }

    /// <summary>A fresh, isolated context whose Playwright calls time out after <see cref="TestServer.Timeout"/>.</summary>
    public async Task<IBrowserContext> NewContextAsync()
    {
        var context = await Browser.NewContextAsync().WaitAsync(TestServer.Timeout);
        context.SetDefaultTimeout((float)TestServer.Timeout.TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)TestServer.Timeout.TotalMilliseconds);
        return context;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync().WaitAsync(TestServer.Timeout);
        }

        _playwright?.Dispose();
    }
}
