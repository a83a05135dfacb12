using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace VizHtml.Security;

/// <summary>
/// Who may talk to the server, checked before anything else answers: the Host header (against DNS rebinding), the
/// Origin of browser requests that act (socket upgrades and form posts to pages), and the optional access key.
/// </summary>
internal sealed class AccessPolicy
{
    public const string KeyQueryName = "key";
    public const string KeyCookieName = "vizhtml_key";
    public const string KeyHeaderName = "X-VizHtml-Key";

    private readonly byte[]? _key;
    private readonly HashSet<string> _allowedHosts;
    private readonly bool _anyHost;
    private readonly HashSet<string> _allowedOrigins;
    private readonly bool _anyOrigin;

    public AccessPolicy(VizHtmlOptions options)
    {
        _key = options.AccessKey is { } key ? Encoding.UTF8.GetBytes(key) : null;
        _anyHost = options.AllowedHosts.Contains("*");
        _allowedHosts = new HashSet<string>(options.AllowedHosts, StringComparer.OrdinalIgnoreCase) { "localhost" };
        var machine = Dns.GetHostName();
        _allowedHosts.Add(machine);
        _allowedHosts.Add(machine + ".local");
        if (options.PublicHost is { } publicHost)
        {
            _allowedHosts.Add(publicHost);
        }

        _anyOrigin = options.AllowedOrigins.Contains("*");
        _allowedOrigins = new HashSet<string>(options.AllowedOrigins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);
    }

    public bool RequiresKey => _key is not null;

    /// <summary>
    /// A name that is not an IP literal must be one this machine answers to: a rebinding attacker's domain resolving to
    /// this address is refused, while every IP address and this machine's own names work.
    /// </summary>
    public bool IsHostAllowed(HostString host)
    {
        if (_anyHost || !host.HasValue)
        {
            return _anyHost;
        }

        var name = host.Host;
        return IPAddress.TryParse(name.Trim('[', ']'), out _) || _allowedHosts.Contains(name.TrimEnd('.'));
    }

    /// <summary>
    /// Browsers always send Origin; a request without one comes from a native client (Node, Python, .NET), which no
    /// web page can impersonate, so only a present, foreign Origin is refused.
    /// </summary>
    public bool IsOriginAllowed(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0 || _anyOrigin)
        {
            return true;
        }

        return string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase)
            || _allowedOrigins.Contains(origin);
    }

    /// <summary>Whether the request carries the access key (query, cookie or header); always true when no key is set.</summary>
    public bool HasKey(HttpRequest request, out bool fromQuery)
    {
        fromQuery = false;
        if (_key is null)
        {
            return true;
        }

        if (Matches(request.Query[KeyQueryName].ToString()))
        {
            fromQuery = true;
            return true;
        }

        return Matches(request.Cookies[KeyCookieName]) || Matches(request.Headers[KeyHeaderName].ToString());
    }

    /// <summary>Lets the browser present the key on its next requests (resources, the socket, form posts) by itself.</summary>
    public void RememberKey(HttpContext context) => context.Response.Cookies.Append(KeyCookieName, Encoding.UTF8.GetString(_key!), new CookieOptions
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        Secure = context.Request.IsHttps,
        IsEssential = true,
    });

    private bool Matches(string? candidate) =>
        !string.IsNullOrEmpty(candidate) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _key);
}
