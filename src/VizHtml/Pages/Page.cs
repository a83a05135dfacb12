namespace VizHtml.Pages;

/// <summary>A registered page: its HTML (inline or from a file) and the directory its relative URLs are served from.</summary>
internal sealed class Page
{
    private Page(string name, string? html, string? filePath, string? resourceDirectory)
    {
        Name = name;
        Html = html;
        FilePath = filePath;
        ResourceDirectory = resourceDirectory;
    }

    public string Name { get; }

    public string? Html { get; }

    public string? FilePath { get; }

    /// <summary>Full path of the resource directory, or <see langword="null"/> when the page has no resources.</summary>
    public string? ResourceDirectory { get; }

    public static Page FromHtml(string name, string html, string? directory) =>
        new(name, html, null, directory is null ? null : Path.GetFullPath(directory));

    /// <summary>A file page; its resources default to the file's own directory.</summary>
    public static Page FromFile(string name, string filePath, string? directory)
    {
        var fullPath = Path.GetFullPath(filePath);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"The page file '{fullPath}' does not exist.", fullPath);
        }

        return new(name, null, fullPath, Path.GetFullPath(directory ?? Path.GetDirectoryName(fullPath)!));
    }

    /// <summary>The page's HTML; a file page is read on each request so edits show on reload.</summary>
    public async Task<string> ReadHtmlAsync(CancellationToken cancellationToken) =>
        Html ?? await File.ReadAllTextAsync(FilePath!, cancellationToken).ConfigureAwait(false);
}
