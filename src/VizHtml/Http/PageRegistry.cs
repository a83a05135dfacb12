using System.Collections.Concurrent;

namespace VizHtml.Http;

/// <summary>Registered pages by name; a request path is matched to the longest registered name.</summary>
internal sealed class PageRegistry
{
    private readonly ConcurrentDictionary<string, Page> _pages = new(StringComparer.Ordinal);

    public IReadOnlyList<Page> All => _pages.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();

    public void Add(Page page) => _pages[page.Name] = page;

    public bool Remove(string name) => _pages.TryRemove(NormalizeName(name), out _);

    public void Clear() => _pages.Clear();

    /// <summary>Finds the page a path below <c>/vizhtml/</c> belongs to, and the rest of the path after the page name.</summary>
    public bool TryMatch(string path, out Page page, out string rest)
    {
        // Longest prefix first, so "a/b" wins over "a" for "a/b/img.png".
        var candidate = path;
        while (candidate.Length > 0)
        {
            if (_pages.TryGetValue(candidate, out var found))
            {
                page = found;
                rest = path[candidate.Length..];
                return true;
            }

            var slash = candidate.LastIndexOf('/');
            if (slash < 0)
            {
                break;
            }

            candidate = candidate[..slash];
        }

        page = null!;
        rest = string.Empty;
        return false;
    }

    /// <summary>Checks and normalizes a page name: URL-safe segments separated by '/', no leading or trailing slash.</summary>
    public static string NormalizeName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var trimmed = name.Trim('/');
        foreach (var segment in trimmed.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or ".." || !segment.All(IsNameChar))
            {
                throw new ArgumentException($"Page name '{name}' is not valid: use letters, digits, '-', '_', '.' and '/' between segments.", nameof(name));
            }
        }

        if (trimmed is "socket" or "vizhtml.js" or "vizhtml.d.ts" or "contract.d.ts" or "jquery.js" or "_status" || trimmed.StartsWith("_status/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Page name '{name}' is reserved by VizHtml.", nameof(name));
        }

        return trimmed;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
