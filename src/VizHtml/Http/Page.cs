namespace VizHtml.Http;

/// <summary>
/// A registered page: its HTML (inline, from a file, or a folder's index file), the directory its relative URLs
/// are served from, and an optional custom request handler that sees every request under it first.
/// </summary>
internal sealed class Page
{
    private Page(string name, string? html, string? filePath, string? resourceDirectory, Func<VizRequest, ValueTask<VizResponse?>>? handler)
    {
        Name = name;
        Html = html;
        FilePath = filePath;
        ResourceDirectory = resourceDirectory;
        Handler = handler;
    }

    public string Name { get; }

    public string? Html { get; }

    public string? FilePath { get; }

    /// <summary>Full path of the resource directory, or <see langword="null"/> when the page has no resources.</summary>
    public string? ResourceDirectory { get; }

    public Func<VizRequest, ValueTask<VizResponse?>>? Handler { get; }

    /// <summary>Whether the page has HTML of its own to show at its root URL.</summary>
    public bool HasHtml => Html is not null || FilePath is not null;

    public static Page FromHtml(string name, string html, string? directory) =>
        new(name, html, null, FullDirectory(directory), null);

    /// <summary>A file page; its resources default to the file's own directory.</summary>
    public static Page FromFile(string name, string filePath, string? directory)
    {
        var fullPath = Path.GetFullPath(filePath);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"The page file '{fullPath}' does not exist.", fullPath);
        }

        return new(name, null, fullPath, FullDirectory(directory ?? Path.GetDirectoryName(fullPath)!), null);
    }

    /// <summary>A folder page: the folder's index file at the page URL and every file below it by relative URL.</summary>
    public static Page FromFolder(string name, string directory, string indexFile)
    {
        var root = FullDirectory(directory)!;
        var index = Path.GetFullPath(Path.Combine(root, indexFile));
        if (!File.Exists(index) || !index.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new FileNotFoundException($"The folder '{root}' has no index file '{indexFile}'.", index);
        }

        return new(name, null, index, root, null);
    }

    public static Page FromHandler(string name, Func<VizRequest, ValueTask<VizResponse?>> handler, string? directory) =>
        new(name, null, null, FullDirectory(directory), handler);

    /// <summary>The page's HTML; a file page is read on each request so edits show on reload.</summary>
    public async Task<string> ReadHtmlAsync(CancellationToken cancellationToken) =>
        Html ?? await File.ReadAllTextAsync(FilePath!, cancellationToken).ConfigureAwait(false);

    private static string? FullDirectory(string? directory)
    {
        if (directory is null)
        {
            return null;
        }

        // "" is the original's directory='': the program's current directory, fixed now like any relative path.
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory.Length == 0 ? Environment.CurrentDirectory : directory));
        return Directory.Exists(full) ? full : throw new DirectoryNotFoundException($"The resource directory '{full}' does not exist.");
    }
}
