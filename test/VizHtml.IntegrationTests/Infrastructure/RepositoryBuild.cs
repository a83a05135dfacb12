namespace VizHtml.IntegrationTests.Infrastructure;

/// <summary>
/// One build of the repository's projects at a time from within the test run: fixtures that publish or pack (the .NET 8
/// sample, the NuGet package) rebuild VizHtml's outputs if anything is stale, and two MSBuild processes writing the same
/// obj/ folder at once can fail each other.
/// </summary>
public static class RepositoryBuild
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>The repository's root: the folder above the test binaries that holds VizHtml.slnx.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration the tests were built in (Debug or Release), for the programs they build or run.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";

    public static async Task<T> OneAtATimeAsync<T>(Func<Task<T>> build)
    {
        await Gate.WaitAsync();
        try
        {
            return await build();
        }
        finally
        {
            Gate.Release();
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VizHtml.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (VizHtml.slnx) was not found above the test binaries.");
    }
}
