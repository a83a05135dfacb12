namespace VizHtml.Http;

/// <summary>A page's files: a relative URL mapped to a file that stays inside the page's directory, and served with validators.</summary>
internal static class Resources
{
    /// <summary>Maps a relative URL path to a file inside <paramref name="root"/>, or <see langword="null"/> when it would leave it.</summary>
    public static FileInfo? Resolve(string root, string relative)
    {
        if (relative.Length == 0 || relative.Contains('\\', StringComparison.Ordinal) || relative.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var rootWithSlash = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(rootWithSlash, relative));
        if (!full.StartsWith(rootWithSlash, StringComparison.Ordinal))
        {
            return null;
        }

        var file = new FileInfo(full);
        if (!file.Exists || !StaysInside(file, rootWithSlash))
        {
            return null;
        }

        return file;
    }

    public static Task ServeFileAsync(HttpExchange exchange, FileInfo file, string? contentType)
    {
        var lastModified = new DateTimeOffset(file.LastWriteTimeUtc);
        exchange.SetHeader("Cache-Control", "no-cache");
        return exchange.SendFileAsync(file, contentType, lastModified, $"\"{lastModified.UtcTicks:x}-{file.Length:x}\"");
    }

    // A symlink anywhere on the way (the file or a directory above it) must not lead outside the root.
    private static bool StaysInside(FileInfo file, string rootWithSlash)
    {
        var realRoot = RealPath(rootWithSlash.TrimEnd(Path.DirectorySeparatorChar)) + Path.DirectorySeparatorChar;
        var realFile = RealPath(file.FullName);
        return realFile.StartsWith(realRoot, StringComparison.Ordinal);
    }

    private static string RealPath(string path)
    {
        // Resolve each existing segment's link target from the top, so links in parent directories count too.
        var parts = path.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var current = Path.DirectorySeparatorChar.ToString();
        foreach (var part in parts)
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                current = Path.GetFullPath(target.FullName);
            }
        }

        return current;
    }
}
