namespace VizHtml.Fuzz;

/// <summary>
/// The standalone host's <c>MultipartFormReader</c> on a body with the fixed boundary <see cref="Boundary"/>, read from a
/// MemoryStream, with a 64 KiB limit. Inputs stay under the in-memory threshold, so nothing is spooled to disk.
/// </summary>
/// <remarks>
/// Invariants (kept in step with test/VizHtml.Tests/Hosting/Standalone/StandaloneFuzzRegressionTests.cs): the reader
/// either returns a form or throws what the exchange turns into a refusal (<c>MultipartFormatException</c>, 400;
/// <c>InvalidDataException</c>, 413); never anything else, and it never hangs. A returned form's field and file names
/// are never null, and no file has a folder in its name.
/// </remarks>
internal static class MultipartTarget
{
    public const string Boundary = "xYz";

    public const int MaxBytes = 64 * 1024;

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length >= MaxBytes)
        {
            return;
        }

        Internals.Form form;
        try
        {
            form = Internals.MultipartReader.Read(input.ToArray(), Boundary, MaxBytes);
        }
        catch (Exception ex) when (ex is InvalidDataException || ex.GetType().Name == "MultipartFormatException")
        {
            return;
        }

        foreach (var (name, values) in form.Fields)
        {
            InvariantException.Check(name is not null && values.All(v => v is not null), "multipart.field-null", "a null field name or value");
        }

        foreach (var (field, fileName) in form.Files)
        {
            InvariantException.Check(field is not null && fileName is not null, "multipart.file-null", "a null file field or name");
            InvariantException.Check(fileName!.IndexOfAny(['/', '\\']) < 0, "multipart.file-folder", $"file name keeps a folder: {EnvelopeTarget.Describe(fileName)}");
        }
    }
}
