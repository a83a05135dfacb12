using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using VizHtml.Http;

namespace VizHtml.Hosting.Kestrel;

/// <summary>
/// Reads a form post (urlencoded or multipart) with ASP.NET Core's parsers, within the size limit: the Kestrel side of
/// <see cref="HttpExchange.ReadFormAsync"/>. Text fields are read into memory; files too up to
/// <see cref="FormSpoolFolder.MemoryThreshold"/> bytes for the whole form, and past that into the form's <see cref="FormSpool"/>.
/// </summary>
internal static class FormReader
{
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

        return FormParts.ToContent(fields, files);
    }

    private static async Task ReadUrlEncodedAsync(HttpContext context, long maxBytes, Dictionary<string, List<string>> fields, CancellationToken cancellationToken)
    {
        var limits = new FormOptions
        {
            ValueLengthLimit = (int)Math.Min(maxBytes, int.MaxValue),
            ValueCountLimit = FormParts.MaxFields,
            BufferBodyLengthLimit = maxBytes,
        };
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, limits));
        var form = await context.Request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (name, values) in form)
        {
            FormParts.Add(fields, name, values.Select(v => v ?? string.Empty));
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
            if (++parts > FormParts.MaxFields)
            {
                throw new InvalidDataException($"The form has more than {FormParts.MaxFields} fields.");
            }

            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? string.Empty;
            if (disposition.FileName.HasValue || disposition.FileNameStar.HasValue)
            {
                var fileName = FormParts.BaseName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value);
                var file = await FormParts.ReadFileAsync(section.Body, name, fileName, section.ContentType, memoryLeft, maxBytes, spool, cancellationToken).ConfigureAwait(false);

                // A file input left empty sends a part with no file name and no bytes: no file was chosen.
                if (fileName.Length > 0 || file.Length > 0)
                {
                    files.Add(file);
                    memoryLeft -= file.IsSpooled ? 0 : (int)file.Length;
                }
            }
            else
            {
                FormParts.Add(fields, name, [Encoding.UTF8.GetString(await FormParts.ReadTextAsync(section.Body, maxBytes, cancellationToken).ConfigureAwait(false))]);
            }
        }
    }
}
