using System.Text;
using System.Text.Json;

namespace VizHtml;

/// <summary>
/// What a custom request handler answers: HTML, JSON, text, a file, a redirect or a bare status, with optional
/// headers. Return <see langword="null"/> from the handler instead to let default serving answer.
/// </summary>
public sealed class VizResponse
{
    private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);

    private VizResponse(int statusCode, string? contentType, byte[]? body, string? filePath)
    {
        StatusCode = statusCode;
        ContentType = contentType;
        Body = body;
        FilePath = filePath;
    }

    /// <summary>The HTTP status code.</summary>
    public int StatusCode { get; }

    /// <summary>The content type, or <see langword="null"/> for a bare status.</summary>
    public string? ContentType { get; }

    /// <summary>Extra response headers.</summary>
    public IReadOnlyDictionary<string, string> Headers => _headers;

    internal byte[]? Body { get; }

    internal string? FilePath { get; }

    /// <summary>An HTML page (<c>text/html; charset=utf-8</c>).</summary>
    public static VizResponse Html(string html, int statusCode = 200) =>
        new(statusCode, "text/html; charset=utf-8", Encoding.UTF8.GetBytes(html ?? throw new ArgumentNullException(nameof(html))), null);

    /// <summary>Plain text, or any text with the given content type.</summary>
    public static VizResponse Text(string text, int statusCode = 200, string contentType = "text/plain; charset=utf-8") =>
        new(statusCode, contentType, Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text))), null);

    /// <summary>A value written as JSON (camelCase property names, as events are).</summary>
    public static VizResponse Json(object? value, int statusCode = 200) =>
        new(statusCode, "application/json; charset=utf-8", value is VizData or System.Text.Json.Nodes.JsonNode ? JsonBytes(value) : JsonSerializer.SerializeToUtf8Bytes(value, value?.GetType() ?? typeof(object), JsonDefaults), null);

    /// <summary>A file from disk; the content type defaults to the one its extension implies.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static VizResponse File(string path, string? contentType = null)
    {
        var full = System.IO.Path.GetFullPath(path ?? throw new ArgumentNullException(nameof(path)));
        if (!System.IO.File.Exists(full))
        {
            throw new FileNotFoundException($"The file '{full}' does not exist.", full);
        }

        return new(200, contentType, null, full);
    }

    /// <summary>A bare status code, with an optional plain-text explanation.</summary>
    public static VizResponse Status(int statusCode, string? text = null) =>
        text is null ? new(statusCode, null, null, null) : Text(text, statusCode);

    /// <summary>A 303 See Other redirect to <paramref name="location"/>.</summary>
    public static VizResponse Redirect(string location) =>
        new VizResponse(303, null, null, null).WithHeader("Location", location ?? throw new ArgumentNullException(nameof(location)));

    /// <summary>Adds or replaces a response header.</summary>
    /// <returns>This response, so calls chain.</returns>
    public VizResponse WithHeader(string name, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Any(char.IsControl) || value.Any(char.IsControl))
        {
            throw new ArgumentException("Header names and values must not contain control characters.", nameof(value));
        }

        _headers[name] = value;
        return this;
    }

    private static JsonSerializerOptions JsonDefaults { get; } = new(JsonSerializerDefaults.Web);

    // VizData and JSON trees are written directly, without the serializer's reflection.
    private static byte[] JsonBytes(object value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Protocol.JsonText.Write(writer, value, JsonDefaults);
        }

        return buffer.ToArray();
    }
}
