namespace VizHtml.IntegrationTests.Infrastructure;

/// <summary>
/// One build of the repository's projects at a time from within the test run: fixtures that publish or pack (the .NET 8
/// sample, the NuGet package) rebuild VizHtml's outputs if anything is stale, and two MSBuild processes writing the same
/// obj/ folder at once can fail each other.
/// </summary>
public static class RepositoryBuild
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

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
}
