using System.Dynamic;
using System.Text.Json;
using System.Text.Json.Nodes;
using VizHtml.Http;

namespace VizHtml;

/// <summary>
/// A submitted HTML form: the counterpart of the original's form-submit event, whose attributes are the form's
/// field names (<c>dynamic e = form; string name = e.first_name;</c>).
/// </summary>
/// <remarks>
/// Values are strings as the browser sent them. A field sent once reads as a <see cref="string"/> through dynamic
/// access; a field sent several times (a checkbox group, a multiple select) reads as an
/// <see cref="IReadOnlyList{T}"/> of strings. <see cref="GetValues"/> always gives the list. Unchecked boxes are absent,
/// as browsers send nothing for them. Immutable and thread-safe.
/// </remarks>
public sealed class VizFormSubmitEvent : DynamicObject
{
    private static readonly JsonSerializerOptions BindingOptions = new(JsonSerializerDefaults.Web);

    internal VizFormSubmitEvent(string? page, string address, IReadOnlyDictionary<string, IReadOnlyList<string>> fields, IReadOnlyList<VizFormFile> files)
    {
        Page = page;
        Address = address;
        Fields = fields;
        Files = files;
    }

    /// <summary>The registered page the form was posted from, or <see langword="null"/> when it came from elsewhere (for example a local file posting to <c>/vizhtml_form/</c>).</summary>
    public string? Page { get; }

    /// <summary>The submitting browser's IP address.</summary>
    public string Address { get; }

    /// <summary>Every field name and its values, in the order the browser sent them.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Fields { get; }

    /// <summary>Uploaded files (from <c>&lt;input type="file"&gt;</c> in a <c>multipart/form-data</c> form); empty file inputs are left out.</summary>
    public IReadOnlyList<VizFormFile> Files { get; }

    /// <summary>Keeps the files a waiter gets past the handlers (see <see cref="VizFormFile.KeepForWaiter"/>).</summary>
    internal void KeepFilesForWaiter()
    {
        foreach (var file in Files)
        {
            file.KeepForWaiter();
        }
    }

    /// <summary>The first value of a field, or <see langword="null"/> when the form did not send it.</summary>
    public string? this[string name] => Fields.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    /// <summary>Every value of a field; empty when the form did not send it.</summary>
    public IReadOnlyList<string> GetValues(string name) => Fields.TryGetValue(name, out var values) ? values : [];

    /// <summary>Whether the form sent the field.</summary>
    public bool Has(string name) => Fields.ContainsKey(name);

    /// <summary>
    /// Binds the fields to <typeparamref name="T"/>: names match case-insensitively, numbers and booleans are read from
    /// their text, and a field sent several times binds to a list or array member.
    /// </summary>
    /// <exception cref="JsonException">A value does not fit its member.</exception>
    public T As<T>()
    {
        // A checkbox group with one box ticked sends one value; a list member still gets a list.
        var listMembers = FormBindingOptions.GetTypeInfo(typeof(T)).Properties
            .Where(p => p.PropertyType != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(p.PropertyType))
            .Select(p => p.Name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var bag = new JsonObject();
        foreach (var (name, values) in Fields)
        {
            bag[name] = values.Count == 1 && !listMembers.Contains(name)
                ? JsonValue.Create(values[0])
                : new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        }

        return bag.Deserialize<T>(FormBindingOptions)!;
    }

    /// <inheritdoc/>
    public override IEnumerable<string> GetDynamicMemberNames() => Fields.Keys;

    /// <inheritdoc/>
    public override bool TryGetMember(GetMemberBinder binder, out object? result)
    {
        ArgumentNullException.ThrowIfNull(binder);
        if (Fields.TryGetValue(binder.Name, out var values))
        {
            result = values.Count == 1 ? values[0] : values;
            return true;
        }

        throw new KeyNotFoundException($"The form has no field '{binder.Name}'. Fields: {string.Join(", ", Fields.Keys)}.");
    }

    /// <inheritdoc/>
    public override string ToString() => $"form from {Page ?? "(no page)"} at {Address}: {string.Join(", ", Fields.Select(f => $"{f.Key}={string.Join("|", f.Value)}"))}";

    private static JsonSerializerOptions FormBindingOptions { get; } = new(BindingOptions)
    {
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowReadingFromString,
        Converters = { new BooleanFromFormTextConverter() },
    };

    /// <summary>Checkboxes send "on" (or their value) when checked; read "on", "true", "1" and "yes" as true.</summary>
    private sealed class BooleanFromFormTextConverter : System.Text.Json.Serialization.JsonConverter<bool>
    {
        public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False => false,
            JsonTokenType.String => reader.GetString()?.ToUpperInvariant() switch
            {
                "ON" or "TRUE" or "1" or "YES" => true,
                "OFF" or "FALSE" or "0" or "NO" or "" => false,
                var other => throw new JsonException($"'{other}' is not a yes/no value."),
            },
            _ => throw new JsonException($"A {reader.TokenType} is not a yes/no value."),
        };

        public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteBooleanValue(value);
    }
}

/// <summary>
/// A file uploaded with a form. Up to 64 KiB of a form's files is held in memory; the rest of them is kept in a temporary
/// file, deleted once the form-submit handlers have finished (an <c>async</c> handler: once it has completed). So read a
/// file in a handler, with <see cref="OpenRead"/> (which streams it) or <see cref="Content"/> (which loads it into memory).
/// A form from <see cref="VizHtmlServer.WaitFormSubmitAsync"/> keeps its files until it is garbage-collected or the server is
/// disposed. Thread-safe.
/// </summary>
public sealed class VizFormFile
{
    private readonly FormSpool? _spool;
    private readonly long _offset;
    private byte[]? _content;

    internal VizFormFile(string fieldName, string fileName, string contentType, byte[] content)
    {
        FieldName = fieldName;
        FileName = fileName;
        ContentType = contentType;
        _content = content;
        Length = content.Length;
    }

    internal VizFormFile(string fieldName, string fileName, string contentType, FormSpool spool, long offset, long length)
    {
        FieldName = fieldName;
        FileName = fileName;
        ContentType = contentType;
        _spool = spool;
        _offset = offset;
        Length = length;
    }

    /// <summary>The name of the form's file input.</summary>
    public string FieldName { get; }

    /// <summary>The file's name as the browser sent it, without any directory part. Never use it as a path unchecked.</summary>
    public string FileName { get; }

    /// <summary>The content type the browser declared (not verified).</summary>
    public string ContentType { get; }

    /// <summary>The size in bytes.</summary>
    public long Length { get; }

    /// <summary>
    /// The file's bytes. A file kept in a temporary file is read into memory at the first use (and then stays readable
    /// after the handlers); for a large file prefer <see cref="OpenRead"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The file was in a temporary file, and the handlers have finished.</exception>
    /// <exception cref="InvalidOperationException">The file is larger than an array can hold; use <see cref="OpenRead"/>.</exception>
    public ReadOnlyMemory<byte> Content => _content ?? Load();

    /// <summary>A read-only, seekable stream over the file's bytes (from disk for a file kept in a temporary file).</summary>
    /// <exception cref="ObjectDisposedException">The file was in a temporary file, and the handlers have finished.</exception>
    public Stream OpenRead()
    {
        if (Volatile.Read(ref _content) is { } content)
        {
            return new MemoryStream(content, writable: false);
        }

        return _spool!.IsDeleted ? throw Deleted() : new FormSpoolStream(_spool, _offset, Length);
    }

    /// <summary>Whether the file's bytes are in a temporary file rather than in memory (for tests).</summary>
    internal bool IsSpooled => _spool is not null;

    /// <summary>Keeps the temporary file for a waiter, who reads the form after the handlers (see <see cref="FormSpool.KeepForWaiter"/>).</summary>
    internal void KeepForWaiter() => _spool?.KeepForWaiter();

    private byte[] Load()
    {
        if (Length > Array.MaxLength)
        {
            throw new InvalidOperationException($"The file '{FileName}' ({Length} bytes) is too large for one array; read it with OpenRead.");
        }

        if (_spool!.IsDeleted)
        {
            throw Deleted();
        }

        var bytes = new byte[Length];
        using (var stream = new FormSpoolStream(_spool, _offset, Length))
        {
            stream.ReadExactly(bytes);
        }

        // Two threads may both load it; either copy is the file.
        return Interlocked.CompareExchange(ref _content, bytes, null) ?? bytes;
    }

    private ObjectDisposedException Deleted() => new(nameof(VizFormFile),
        $"The file '{FileName}' was kept in a temporary file, deleted when the form-submit handlers finished; read it in a handler.");
}
