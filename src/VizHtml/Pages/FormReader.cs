using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace VizHtml.Pages;

/// <summary>Reads a form post (urlencoded or multipart) into a <see cref="VizFormSubmitEvent"/>, within the size limit.</summary>
internal static class FormReader
{
    /// <summary>Thrown when the form is larger than allowed; answered with 413.</summary>
    public sealed class FormTooLargeException(string message, Exception inner) : Exception(message, inner);

    public static async Task<VizFormSubmitEvent> ReadAsync(HttpContext context, string? page, string address, long maxBytes)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = maxBytes;
        }

        var limits = new FormOptions
        {
            MultipartBodyLengthLimit = maxBytes,
            ValueLengthLimit = (int)Math.Min(maxBytes, int.MaxValue),
            ValueCountLimit = 2048,
            BufferBodyLengthLimit = maxBytes,
        };
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, limits));

        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw new FormTooLargeException($"The form is larger than the limit of {maxBytes} bytes or has too many fields.", ex);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new FormTooLargeException($"The form is larger than the limit of {maxBytes} bytes.", ex);
        }

        var fields = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (name, values) in form)
        {
            fields[name] = values.Select(v => v ?? string.Empty).ToArray();
        }

        var files = new List<VizFormFile>();
        foreach (var file in form.Files)
        {
            // A file input left empty still sends a part with no name and no bytes.
            if (file.Length == 0 && string.IsNullOrEmpty(file.FileName))
            {
                continue;
            }

            var content = new byte[file.Length];
            var stream = file.OpenReadStream();
            await using (stream.ConfigureAwait(false))
            {
                await stream.ReadExactlyAsync(content, context.RequestAborted).ConfigureAwait(false);
            }

            files.Add(new VizFormFile(file.Name, BaseName(file.FileName), file.ContentType ?? "application/octet-stream", content));
        }

        return new VizFormSubmitEvent(page, address, fields, files);
    }

    // Old browsers sent "C:\fakepath\photo.jpg"; keep only the last segment whatever the separator.
    private static string BaseName(string? fileName) =>
        string.IsNullOrEmpty(fileName) ? string.Empty : fileName[(fileName.LastIndexOfAny(['/', '\\']) + 1)..];
}
