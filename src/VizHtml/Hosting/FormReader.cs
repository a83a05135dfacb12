using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using VizHtml.Http;

namespace VizHtml.Hosting;

/// <summary>Reads a form post (urlencoded or multipart) with ASP.NET Core's parsers, within the size limit: the Kestrel side of <see cref="HttpExchange.ReadFormAsync"/>.</summary>
internal static class FormReader
{
    private const int MaxFields = 2048;

    public static async Task<FormContent> ReadAsync(HttpContext context, long maxBytes)
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
                await ReadMultipartAsync(context, mediaType, maxBytes, fields, files).ConfigureAwait(false);
            }
            else
            {
                await ReadUrlEncodedAsync(context, maxBytes, fields).ConfigureAwait(false);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new FormRejectedException(StatusCodes.Status413PayloadTooLarge, $"The form is larger than the limit of {maxBytes} bytes.", ex);
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

    private static async Task ReadUrlEncodedAsync(HttpContext context, long maxBytes, Dictionary<string, List<string>> fields)
    {
        var limits = new FormOptions
        {
            ValueLengthLimit = (int)Math.Min(maxBytes, int.MaxValue),
            ValueCountLimit = MaxFields,
            BufferBodyLengthLimit = maxBytes,
        };
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, limits));
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        foreach (var (name, values) in form)
        {
            Add(fields, name, values.Select(v => v ?? string.Empty));
        }
    }

    /// <summary>
    /// Reads multipart sections directly rather than through ASP.NET's form feature, which turns an empty file input
    /// (a part with <c>filename=""</c>) into a text field; here any part with a filename is a file input.
    /// </summary>
    private static async Task ReadMultipartAsync(HttpContext context, MediaTypeHeaderValue mediaType, long maxBytes, Dictionary<string, List<string>> fields, List<VizFormFile> files)
    {
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw new FormRejectedException(StatusCodes.Status400BadRequest, "The multipart form has no boundary.");
        }

        var reader = new MultipartReader(boundary, context.Request.Body) { BodyLengthLimit = maxBytes };
        var parts = 0;
        while (await reader.ReadNextSectionAsync(context.RequestAborted).ConfigureAwait(false) is { } section)
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
            var content = await ReadSectionAsync(section, maxBytes, context.RequestAborted).ConfigureAwait(false);
            if (disposition.FileName.HasValue || disposition.FileNameStar.HasValue)
            {
                var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;

                // A file input left empty sends a part with no file name and no bytes: no file was chosen.
                if (string.IsNullOrEmpty(fileName) && content.Length == 0)
                {
                    continue;
                }

                files.Add(new VizFormFile(name, BaseName(fileName), section.ContentType ?? "application/octet-stream", content));
            }
            else
            {
                Add(fields, name, [Encoding.UTF8.GetString(content)]);
            }
        }
    }

    private static async Task<byte[]> ReadSectionAsync(MultipartSection section, long maxBytes, CancellationToken cancellationToken)
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
