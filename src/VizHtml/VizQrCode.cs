using VizHtml.Http;

namespace VizHtml;

/// <summary>
/// QR codes of page URLs for a console or a log, such as the one the Unity component prints: the page index at
/// <c>/vizhtml/</c> shows the same codes as images. Made by VizHtml itself (no imaging library). Thread-safe.
/// </summary>
public static class VizQrCode
{
    /// <summary>
    /// A QR code of <paramref name="text"/> (its UTF-8 bytes, at most 271 of them, error correction level L) as text:
    /// two rows of modules a line in block characters (▀ ▄ █ and space) with the four-module quiet zone, light modules drawn,
    /// so it reads from a console with light text on a dark background in a monospaced font. Lines are separated by <c>\n</c>, with none after the last.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="text"/> is longer than a version 10 QR code holds.</exception>
    public static string ToText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return QrImage.Text(QrCode.Encode(text, QrErrorCorrection.Low));
    }
}
