namespace VizHtml.IntegrationTests.BrowserForms;

/// <summary>A fresh folder under the system temp directory for one test's files; deleted on dispose.</summary>
public sealed class ScratchFolder : IDisposable
{
    public ScratchFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vizhtml-browserforms-" + Guid.NewGuid().ToString("N"));

    /// <summary>Writes <paramref name="content"/> to <paramref name="name"/> in the folder and returns the full path.</summary>
    public string Write(string name, byte[] content)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 to <paramref name="name"/> in the folder and returns the full path.</summary>
    public string WriteText(string name, string text)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the test over it would hide the real result.
        }
    }
}
