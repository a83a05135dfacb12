namespace VizHtml;

/// <summary>
/// A request to a page that has a custom handler (<c>VizHtmlServer.RegisterHandler</c>): the counterpart of
/// the original's request object.
/// </summary>
public sealed class VizRequest
{
    internal VizRequest(string method, string page, string path, string queryString, IReadOnlyDictionary<string, IReadOnlyList<string>> query,
        IReadOnlyDictionary<string, string> headers, VizFormSubmitEvent? form, string address, CancellationToken cancellationToken)
    {
        Method = method;
        Page = page;
        Path = path;
        QueryString = queryString;
        Query = query;
        Headers = headers;
        Form = form;
        Address = address;
        CancellationToken = cancellationToken;
    }

    /// <summary>The HTTP method (<c>GET</c>, <c>POST</c>, ...).</summary>
    public string Method { get; }

    /// <summary>The registered page name the request is under.</summary>
    public string Page { get; }

    /// <summary>The resource path below the page, decoded: <c>""</c> for the page itself, otherwise e.g. <c>"state.json"</c> or <c>"img/a.png"</c>.</summary>
    public string Path { get; }

    /// <summary>The raw query string without its leading <c>?</c> (the original's <c>query_string</c>), e.g. <c>"x=1&amp;y=2"</c>; <c>""</c> when there is none.</summary>
    public string QueryString { get; }

    /// <summary>The query string parsed: names to values.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Query { get; }

    /// <summary>The request headers (names case-insensitive; repeated headers joined with commas).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>
    /// The form fields and files when the request is a form post; otherwise <see langword="null"/>. The same form then goes
    /// to the form-submit handlers (<c>VizHtmlServer.OnFormSubmit</c>), which run after this handler has returned. Files past
    /// the form's first 64 KiB are in a temporary file until those have finished: read them in a handler.
    /// </summary>
    public VizFormSubmitEvent? Form { get; }

    /// <summary>The browser's IP address.</summary>
    public string Address { get; }

    /// <summary>Fires when the browser goes away or the handler timeout passes.</summary>
    public CancellationToken CancellationToken { get; }
}
