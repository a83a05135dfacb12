using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using VizHtml.Http;

namespace VizHtml.Hosting;

/// <summary>
/// Reads a form post (urlencoded or multipart) with ASP.NET Core's parsers, within the size limit: the Kestrel side of
/// <see cref="HttpExchange.ReadFormAsync"/>. Text fields are read into memory; files too up to
/// <see cref="FormSpoolFolder.MemoryThreshold"/> bytes for the whole form, and past that into the form's <see cref="FormSpool"/>.
/// </summary>
internal static class FormReader
{
    private const int MaxFields = 2048;

    public static async Task<FormContent> ReadAsync(HttpContext context, long maxBytes, FormSpool spool, CancellationToken cancellationToken)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = maxBytes;
        }

        var fields = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var files = new List<VizFormFile>();
        try
        {
            if (MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType)
                && mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            {
                await ReadMultipartAsync(context, mediaType, maxBytes, spool, fields, files, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ReadUrlEncodedAsync(context, maxBytes, fields, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new FormRejectedException(StatusCodes.Status413PayloadTooLarge, $"The form is larger than the limit of {maxBytes} bytes.", ex);
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own verdicts on the body: 408 for one slower than its minimum data rate, 400 for bad framing.
            throw new FormRejectedException(ex.StatusCode, "The form did not arrive whole.", ex);
        }
        catch (InvalidDataException ex)
        {
            throw new FormRejectedException(StatusCodes.Status413PayloadTooLarge, $"The form is larger than the limit of {maxBytes} bytes or has too many fields.", ex);
        }
        catch (IOException ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            throw new FormRejectedException(StatusCodes.Status400BadRequest, "The form is malformed.", ex);
        }

        return new FormContent(fields.ToDictionary(f => f.Key, f => (IReadOnlyList<string>)f.Value.ToArray(), StringComparer.Ordinal), files);
    }

    private static async Task ReadUrlEncodedAsync(HttpContext context, long maxBytes, Dictionary<string, List<string>> fields, CancellationToken cancellationToken)
    {
        var limits = new FormOptions
        {
            ValueLengthLimit = (int)Math.Min(maxBytes, int.MaxValue),
            ValueCountLimit = MaxFields,
            BufferBodyLengthLimit = maxBytes,
        };
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, limits));
        var form = await context.Request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (name, values) in form)
        {
            Add(fields, name, values.Select(v => v ?? string.Empty));
        }
    }

    /// <summary>
    /// Reads multipart sections directly rather than through ASP.NET's form feature, which turns an empty file input
    /// (a part with <c>filename=""</c>) into a text field; here any part with a filename is a file input.
    /// </summary>
    private static async Task ReadMultipartAsync(HttpContext context, MediaTypeHeaderValue mediaType, long maxBytes, FormSpool spool,
        Dictionary<string, List<string>> fields, List<VizFormFile> files, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw new FormRejectedException(StatusCodes.Status400BadRequest, "The multipart form has no boundary.");
        }

        var reader = new MultipartReader(boundary, context.Request.Body) { BodyLengthLimit = maxBytes };
        var parts = 0;
        var memoryLeft = FormSpoolFolder.MemoryThreshold;
        while (await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false) is { } section)
        {
            if (++parts > MaxFields)
            {
                throw new InvalidDataException($"The form has more than {MaxFields} fields.");
            }

            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? string.Empty;
            if (disposition.FileName.HasValue || disposition.FileNameStar.HasValue)
            {
                var fileName = BaseName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value);
                var file = await ReadFileAsync(section, name, fileName, memoryLeft, maxBytes, spool, cancellationToken).ConfigureAwait(false);

                // A file input left empty sends a part with no file name and no bytes: no file was chosen.
                if (fileName.Length > 0 || file.Length > 0)
                {
                    files.Add(file);
                    memoryLeft -= file.IsSpooled ? 0 : (int)file.Length;
                }
            }
            else
            {
                Add(fields, name, [Encoding.UTF8.GetString(await ReadTextAsync(section, maxBytes, cancellationToken).ConfigureAwait(false))]);
            }
        }
    }

    /// <summary>
    /// A file part: in memory when it ends before <paramref name="memoryLeft"/> bytes (what the form may still hold in
    /// memory; a part of exactly that size goes to disk, as telling it from a longer one would take a read more), otherwise
    /// in the form's spool, those first bytes included. One pooled buffer of <see cref="FormSpoolFolder.MemoryThreshold"/>
    /// bytes serves both.
    /// </summary>
    private static async Task<VizFormFile> ReadFileAsync(MultipartSection section, string field, string fileName, int memoryLeft, long maxBytes, FormSpool spool, CancellationToken cancellationToken)
    {
        var contentType = section.ContentType ?? "application/octet-stream";
        var buffer = ArrayPool<byte>.Shared.Rent(FormSpoolFolder.MemoryThreshold);
        try
        {
            // At least one byte, so that with no memory left an empty part still reads as empty.
            var wanted = Math.Max(memoryLeft, 1);
            var filled = await section.Body.ReadAtLeastAsync(buffer.AsMemory(0, wanted), wanted, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (filled < wanted)
            {
                return filled > maxBytes
                    ? throw new InvalidDataException("A form part is larger than the limit.")
                    : new VizFormFile(field, fileName, contentType, buffer.AsSpan(0, filled).ToArray());
            }

            var (offset, length) = await spool.AppendAsync(buffer.AsMemory(0, FormSpoolFolder.MemoryThreshold), filled, section.Body, maxBytes, cancellationToken).ConfigureAwait(false);
            return new VizFormFile(field, fileName, contentType, spool, offset, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<byte[]> ReadTextAsync(MultipartSection section, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await section.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.Length > maxBytes ? throw new InvalidDataException("A form part is larger than the limit.") : buffer.ToArray();
    }

    private static void Add(Dictionary<string, List<string>> fields, string name, IEnumerable<string> values)
    {
        if (!fields.TryGetValue(name, out var list))
        {
            fields[name] = list = [];
        }

        list.AddRange(values);
    }

    // Old browsers sent "C:\fakepath\photo.jpg"; keep only the last segment whatever the separator.
    private static string BaseName(string? fileName) =>
        string.IsNullOrEmpty(fileName) ? string.Empty : fileName[(fileName.LastIndexOfAny(['/', '\\']) + 1)..];
}
