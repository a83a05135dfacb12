using System.Security.Cryptography;

namespace VizHtml.Pages;

/// <summary>The embedded browser script and its validator, loaded once per process.</summary>
internal sealed class ClientScript
{
    private static readonly Lazy<ClientScript> Js = new(() => Load("VizHtml.Client.vizhtml.js", "text/javascript; charset=utf-8"));
    private static readonly Lazy<ClientScript> TypeScript = new(() => Load("VizHtml.Client.vizhtml.d.ts", "application/typescript; charset=utf-8"));

    private ClientScript(byte[] content, string contentType)
    {
        Content = content;
        ContentType = contentType;

        // A strong validator from the bytes themselves: a new library version changes it, a restart does not.
        ETag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12))}\"";
    }

    public static ClientScript Script => Js.Value;

    public static ClientScript Declarations => TypeScript.Value;

    public byte[] Content { get; }

    public string ContentType { get; }

    public string ETag { get; }

    private static ClientScript Load(string resourceName, string contentType)
    {
        using var stream = typeof(ClientScript).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"The embedded resource {resourceName} is missing from the VizHtml assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new ClientScript(copy.ToArray(), contentType);
    }
}
