namespace VizHtml;

/// <summary>Who may open the live status page at <c>&lt;mount&gt;/_status</c> (see <see cref="VizHtmlOptions.StatusPage"/>).</summary>
public enum VizStatusPageAccess
{
    /// <summary>Only browsers on this machine (a loopback address), and only requests that no proxy forwarded: the default.</summary>
    Loopback,

    /// <summary>Not served: its path answers 404, as an unknown page does.</summary>
    Off,

    /// <summary>Any browser that may open the server's pages; with an <see cref="VizHtmlOptions.AccessKey"/>, only with the key.</summary>
    Everywhere,
}
