using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace VizHtml.Http;

/// <summary>An embedded browser file (<c>vizhtml.js</c>, its declarations, the built-in jQuery) and its validator, loaded once per process.</summary>
internal sealed class ClientScript
{
    /// <summary>The line of <c>vizhtml.js</c> that says where the socket is; the server writes its own mount path there.</summary>
    private const string MountLine = "const MOUNT = '/vizhtml';";

    private static readonly Lazy<ClientScript> Js = new(() => Load("VizHtml.Client.vizhtml.js", "text/javascript; charset=utf-8"));
    private static readonly Lazy<ClientScript> TypeScript = new(() => Load("VizHtml.Client.vizhtml.d.ts", "application/typescript; charset=utf-8"));
    private static readonly Lazy<ClientScript> JQueryScript = new(() => Load("VizHtml.Client.jquery.js", "text/javascript; charset=utf-8"));
    private static readonly ConcurrentDictionary<string, ClientScript> ByMount = new(StringComparer.Ordinal);

    private ClientScript(byte[] content, string contentType)
    {
        Content = content;
        ContentType = contentType;

        // A strong validator from the bytes themselves: a new library version changes it, a restart does not.
        ETag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12))}\"";
    }

    /// <summary>The script as shipped (its socket at <c>/vizhtml/socket</c>).</summary>
    public static ClientScript Script => Js.Value;

    public static ClientScript Declarations => TypeScript.Value;

    /// <summary>The pinned jQuery release the build embeds (JQuery.targets), the same under every mount.</summary>
    public static ClientScript JQuery => JQueryScript.Value;

    public byte[] Content { get; }

    public string ContentType { get; }

    public string ETag { get; }

    /// <summary>A file made at run time (a contract's declarations), served like the embedded ones.</summary>
    public static ClientScript FromText(string text, string contentType) => new(Encoding.UTF8.GetBytes(text), contentType);

    /// <summary>The script for pages served under <paramref name="mount"/> (path base included): its socket is <c>&lt;mount&gt;/socket</c>.</summary>
    public static ClientScript ForMount(string mount)
    {
        if (mount == "/vizhtml")
        {
            return Script;
        }

        // One per mount path, and a process has one or two: the cache does not grow with requests.
        return ByMount.GetOrAdd(mount, static m =>
        {
            var text = Encoding.UTF8.GetString(Script.Content);
            var line = $"const MOUNT = {System.Text.Json.Nodes.JsonValue.Create(m).ToJsonString()};";
            return new ClientScript(Encoding.UTF8.GetBytes(text.Replace(MountLine, line, StringComparison.Ordinal)), Script.ContentType);
        });
    }

    private static ClientScript Load(string resourceName, string contentType)
    {
        using var stream = typeof(ClientScript).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"The embedded resource {resourceName} is missing from the VizHtml assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var content = copy.ToArray();
        if (resourceName == "VizHtml.Client.vizhtml.js" && !Encoding.UTF8.GetString(content).Contains(MountLine, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"vizhtml.js has lost its line \"{MountLine}\", which the server rewrites for other mount paths.");
        }

        return new ClientScript(content, contentType);
    }
}
