using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace VizHtml.Http;

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

    /// <summary>
    /// A name that is not an IP literal must be one this machine answers to: a rebinding attacker's domain resolving to
    /// this address is refused, while every IP address and this machine's own names work.
    /// </summary>
    /// <param name="host">The Host header as sent: <c>name</c>, <c>name:port</c>, <c>[v6]:port</c>.</param>
    public bool IsHostAllowed(string? host)
    {
        if (_anyHost || string.IsNullOrEmpty(host))
        {
            return _anyHost;
        }

        var name = HostName(host);
        return IPAddress.TryParse(name.Trim('[', ']'), out _) || _allowedHosts.Contains(name.TrimEnd('.'));
    }

    /// <summary>The name part of a Host header: without the port, an IPv6 literal keeps its brackets.</summary>
    public static string HostName(string host)
    {
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            return close < 0 ? host : host[..(close + 1)];
        }

        var colon = host.LastIndexOf(':');
        return colon < 0 ? host : host[..colon];
    }

    /// <summary>
    /// Browsers always send Origin; a request without one comes from a native client (Node, Python, .NET), which no
    /// web page can impersonate, so only a present, foreign Origin is refused.
    /// </summary>
    public bool IsOriginAllowed(string? origin, string scheme, string host)
    {
        if (string.IsNullOrEmpty(origin) || _anyOrigin)
        {
            return true;
        }

        return string.Equals(origin, $"{scheme}://{host}", StringComparison.OrdinalIgnoreCase)
            || _allowedOrigins.Contains(origin);
    }

    /// <summary>Whether the request carries the access key (query, cookie or header); always true when no key is set.</summary>
    /// <param name="query">The <c>key</c> query parameter's values.</param>
    /// <param name="cookie">The key cookie's value.</param>
    /// <param name="header">The key header's value.</param>
    /// <param name="fromQuery">Whether the query carried it (the page was opened from the link or QR code).</param>
    public bool HasKey(IReadOnlyList<string>? query, string? cookie, string? header, out bool fromQuery)
    {
        fromQuery = false;
        if (_key is null)
        {
            return true;
        }

        if (query is { Count: > 0 } && Matches(string.Join(",", query)))
        {
            fromQuery = true;
            return true;
        }

        return Matches(cookie) || Matches(header);
    }

    /// <summary>The key, for the cookie that lets the browser present it on its next requests by itself.</summary>
    public string Key => Encoding.UTF8.GetString(_key ?? throw new InvalidOperationException("No access key is set."));

    private bool Matches(string? candidate) =>
        !string.IsNullOrEmpty(candidate) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _key);
}
