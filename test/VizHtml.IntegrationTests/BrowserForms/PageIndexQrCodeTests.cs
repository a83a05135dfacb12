using System.Text.Json;
using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;
using ZXing;
using ZXing.Common;
using ZXing.QrCode;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.BrowserForms;

/// <summary>The index at <c>/vizhtml/</c> as Chromium shows it: QR codes read by a real decoder.</summary>
public sealed class PageIndexQrCodeTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    /// <summary>
    /// Draws an image onto a canvas, at its own pixel size or at the size it is shown, and returns the RGBA pixels
    /// as base64 (a plain number array would be a megabyte of JSON).
    /// </summary>
    private const string ReadPixelsScript = """
        async (img, asShown) => {
          await img.decode();
          const width = asShown ? img.width : img.naturalWidth;
          const height = asShown ? img.height : img.naturalHeight;
          const canvas = document.createElement('canvas');
          canvas.width = width;
          canvas.height = height;
          const context = canvas.getContext('2d');
          context.imageSmoothingEnabled = false;
          context.drawImage(img, 0, 0, width, height);
          const rgba = context.getImageData(0, 0, width, height).data;
          let binary = '';
          for (let i = 0; i < rgba.length; i += 0x8000) {
            binary += String.fromCharCode.apply(null, rgba.subarray(i, i + 0x8000));
          }
          return { width, height, rgba: btoa(binary) };
        }
        """;

    private static readonly Dictionary<DecodeHintType, object> PureBarcode = new() { [DecodeHintType.PURE_BARCODE] = true };

    [Theory]
    [OnEveryHost]
    public async Task EveryQrCodeOnTheIndexDecodesToItsPageUrlBesideALinkToThatUrlWhichOpensThePage(TestHost host)
    {
        string[] names = ["dashboard", "lab/sensor-2"];
        var serverLog = new ServerLog();
        await using var server = await TestServer.StartAsync(host, o =>
        {
            o.LoggerFactory = serverLog.Factory;

            // Loopback so that the decoded URLs can be opened here; what is compared is GetServerUrl either way.
            o.PublicHost = "127.0.0.1";
        });
        foreach (var name in names)
        {
            server.Server.RegisterHtml(name, $"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>page {name}</title></head><body><h1>{name}</h1></body></html>");
        }

        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageErrors = PageDiagnostics.CollectPageErrors(page);

        await page.GotoAsync($"{server.HttpBase}vizhtml/");
        var entries = page.Locator("li.page");
        await Expect(entries).ToHaveCountAsync(names.Length);
        await Screenshots.SaveAsync(page, "index");

        var decoded = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            var entry = entries.Nth(i);
            var link = entry.Locator("a");
            var name = await link.InnerTextAsync();
            var expected = server.Server.GetServerUrl(name).ToString();
            var image = entry.Locator("img");

            var atOwnSize = await DecodeQrAsync(image, asShown: false);
            var asShown = await DecodeQrAsync(image, asShown: true);

            Assert.Equal(expected, atOwnSize);
            Assert.Equal(expected, asShown);
            Assert.Equal(expected, await link.GetAttributeAsync("href"));
            decoded[name] = atOwnSize!;
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), decoded.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, decoded.Values.Distinct(StringComparer.Ordinal).Count());

        // What a tablet's camera reads must open the page it names.
        foreach (var (name, url) in decoded)
        {
            var response = await page.GotoAsync(url);
            Assert.Equal(200, response?.Status);
            await Expect(page).ToHaveTitleAsync($"page {name}");
        }

        Assert.Empty(pageErrors);
        Assert.Empty(serverLog.Errors);
    }

    private static async Task<string?> DecodeQrAsync(ILocator image, bool asShown)
    {
        var pixels = await image.EvaluateAsync<JsonElement>(ReadPixelsScript, asShown).WaitAsync(TestServer.Timeout);
        var width = pixels.GetProperty("width").GetInt32();
        var height = pixels.GetProperty("height").GetInt32();
        var rgba = Convert.FromBase64String(pixels.GetProperty("rgba").GetString()!);
        Assert.Equal(width * height * 4, rgba.Length);

        var source = new RGBLuminanceSource(rgba, width, height, RGBLuminanceSource.BitmapFormat.RGBA32);
        var bitmap = new BinaryBitmap(new HybridBinarizer(source));

        // ZXing's finder-pattern search misses about 1 in 500 of these codes (it depends on the URL, so on the port; all
        // decoded once read as the bare code they are): the bare reading is the fallback, the content is checked either way.
        var result = new QRCodeReader().decode(bitmap) ?? new QRCodeReader().decode(bitmap, PureBarcode);
        Assert.True(result is not null, $"No QR code was found in the {width}x{height} image ({(asShown ? "as shown" : "at its own size")}).");
        return result.Text;
    }
}
