namespace VizHtml;

/// <summary>Which way a contract's event or request goes.</summary>
public enum VizDirection
{
    /// <summary>From the server (the C# program) to the page: the server sends it, the page receives it (<c>onevent</c>, <c>onrequest</c>).</summary>
    ToPage,

    /// <summary>From the page to the server: the page sends it (<c>send</c>, <c>request</c>), the server handles it (<c>OnMessage</c>, <c>OnRequest</c>).</summary>
    ToServer,

    /// <summary>Both ways, with the same payload type (events only).</summary>
    Both,
}
