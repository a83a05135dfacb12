using VizHtml.Diagnostics;

namespace VizHtml.Http;

/// <summary>
/// The live status page's side of the HTTP endpoint (implemented in <c>Status/</c>, which reads the sessions and so sits
/// beside Http rather than below it): <see cref="HttpEndpoint"/> routes <c>&lt;mount&gt;/_status</c> and
/// <c>&lt;mount&gt;/_status/socket</c> here once the access policy has admitted the request, and tells it of every refusal.
/// </summary>
internal interface IStatusRoute
{
    /// <summary>Whether <see cref="VizHtmlOptions.StatusPage"/> lets this request see the status page at all (checked before the key).</summary>
    bool Admits(HttpExchange exchange);

    /// <summary>Answers a request for the page that lacks the access key: a small form that asks for it.</summary>
    Task AskForKeyAsync(HttpExchange exchange);

    /// <summary>Serves the page (<paramref name="rest"/> empty or <c>/</c>) or its socket (<c>/socket</c>).</summary>
    Task HandleAsync(HttpExchange exchange, string rest, string mount);

    /// <summary>Records a refused request for the page's list of the last refusals.</summary>
    void Refused(RefusalRule rule, string address);
}
