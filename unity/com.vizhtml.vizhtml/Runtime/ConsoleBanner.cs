using System.Text;

namespace VizHtml.Unity
{
    /// <summary>What the component prints when it starts: the URL for this machine and for a tablet, and a QR code of the latter.</summary>
    public static class ConsoleBanner
    {
        /// <summary>The banner for <paramref name="page"/> (or the index when null).</summary>
        public static string For(VizHtmlServer server, string page)
        {
            var remote = page == null ? server.GetServerUrl() : server.GetServerUrl(page);
            var local = server.GetLocalUrl(page);
            var text = new StringBuilder();
            text.Append("VizHtml listening on port ").Append(server.Port).Append('\n');
            text.Append("This machine: ").Append(local).Append('\n');
            text.Append("A tablet on this network: ").Append(remote).Append('\n');

            // Two rows a line, in a monospaced font (copy it from the console if Unity's font is not one).
            text.Append(VizQrCode.ToText(remote.ToString()));

            return text.ToString();
        }
    }
}
