using System.Net;
using System.Text;

namespace VizHtml.Http;

/// <summary>
/// The page at <c>/vizhtml/</c>: every registered page with its LAN URL and a QR code of it, so a tablet opens a page
/// by pointing its camera at the screen.
/// </summary>
internal static class PageIndex
{
    public static string Render(IReadOnlyList<Page> pages, Func<string, Uri> urlOf)
    {
        var html = new StringBuilder("""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>VizHtml pages</title>
            <style>
              body { font-family: sans-serif; margin: 2em; }
              li { list-style: none; display: inline-block; margin: 0 2em 2em 0; text-align: center; vertical-align: top; }
              img { display: block; width: 220px; height: 220px; image-rendering: pixelated; }
              code { font-size: 0.9em; }
            </style></head><body><h1>VizHtml pages</h1>
            """);
        if (pages.Count == 0)
        {
            html.Append("<p>No pages are registered.</p>");
        }

        html.Append("<ul>");
        foreach (var page in pages)
        {
            var url = urlOf(page.Name).ToString();
            var encodedUrl = WebUtility.HtmlEncode(url);
            var name = WebUtility.HtmlEncode(page.Name);
            var png = QrImage.Png(QrCode.Encode(url, QrErrorCorrection.Medium), pixelsPerModule: 8);
            html.Append("<li class=\"page\" data-url=\"").Append(encodedUrl).Append("\">")
                .Append("<img alt=\"QR code for ").Append(encodedUrl).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png)).Append("\">")
                .Append("<a href=\"").Append(encodedUrl).Append("\">").Append(name).Append("</a><br><code>").Append(encodedUrl).Append("</code></li>");
        }

        html.Append("</ul></body></html>");
        return html.ToString();
    }
}
