using System.Buffers;

namespace VizHtml.Http;

/// <summary>
/// What every host's form reader does with the parts it parses: files kept in memory up to the form's share of
/// <see cref="FormSpoolFolder.MemoryThreshold"/> and spooled past it, text fields within the limit, the field count capped.
/// </summary>
internal static class FormParts
{
    /// <summary>The most fields (and parts) a form may have.</summary>
    public const int MaxFields = 2048;

    /// <summary>
    /// A file part: in memory when it ends before <paramref name="memoryLeft"/> bytes (what the form may still hold in
    /// memory; a part of exactly that size goes to disk, as telling it from a longer one would take a read more), otherwise
    /// in the form's spool, those first bytes included. One pooled buffer of <see cref="FormSpoolFolder.MemoryThreshold"/>
    /// bytes serves both.
    /// </summary>
    /// <exception cref="InvalidDataException">The part is larger than <paramref name="maxBytes"/>.</exception>
    public static async Task<VizFormFile> ReadFileAsync(Stream body, string field, string fileName, string? contentType, int memoryLeft, long maxBytes, FormSpool spool, CancellationToken cancellationToken)
    {
        contentType ??= "application/octet-stream";
        var buffer = ArrayPool<byte>.Shared.Rent(FormSpoolFolder.MemoryThreshold);
        try
        {
            // At least one byte, so that with no memory left an empty part still reads as empty.
            var wanted = Math.Max(memoryLeft, 1);
            var filled = await body.ReadAtLeastAsync(buffer.AsMemory(0, wanted), wanted, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (filled < wanted)
            {
                return filled > maxBytes
                    ? throw new InvalidDataException("A form part is larger than the limit.")
                    : new VizFormFile(field, fileName, contentType, buffer.AsSpan(0, filled).ToArray());
            }

            var (offset, length) = await spool.AppendAsync(buffer.AsMemory(0, FormSpoolFolder.MemoryThreshold), filled, body, maxBytes, cancellationToken).ConfigureAwait(false);
            return new VizFormFile(field, fileName, contentType, spool, offset, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A text part's bytes, within <paramref name="maxBytes"/>.</summary>
    /// <exception cref="InvalidDataException">The part is larger than <paramref name="maxBytes"/>.</exception>
    public static async Task<byte[]> ReadTextAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.Length > maxBytes ? throw new InvalidDataException("A form part is larger than the limit.") : buffer.ToArray();
    }

    /// <summary>Adds a field's values to <paramref name="fields"/>.</summary>
    public static void Add(Dictionary<string, List<string>> fields, string name, IEnumerable<string> values)
    {
        if (!fields.TryGetValue(name, out var list))
        {
            fields[name] = list = [];
        }

        list.AddRange(values);
    }

    /// <summary>The fields as <see cref="FormContent"/> takes them.</summary>
    public static FormContent ToContent(Dictionary<string, List<string>> fields, List<VizFormFile> files) =>
        new(fields.ToDictionary(f => f.Key, f => (IReadOnlyList<string>)f.Value.ToArray(), StringComparer.Ordinal), files);

    /// <summary>A file name without its folders: old browsers sent <c>C:\fakepath\photo.jpg</c>; the last segment stays, whatever the separator.</summary>
    public static string BaseName(string? fileName) =>
        string.IsNullOrEmpty(fileName) ? string.Empty : fileName[(fileName.LastIndexOfAny(['/', '\\']) + 1)..];
}
