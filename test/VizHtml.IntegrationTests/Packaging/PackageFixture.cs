using System.Diagnostics;
using System.Globalization;
using System.Text;

using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Packaging;

/// <summary>The package tests share one pack.</summary>
[CollectionDefinition(Name)]
public sealed class PackageTests : ICollectionFixture<PackageFixture>
{
    public const string Name = "Package";
}

/// <summary>
/// VizHtml packed once per test run with <c>dotnet pack</c>, as the README says, into a local feed folder under
/// <c>artifacts/package-feed</c>. Its version is <c>0.0.0-test.&lt;UTC time&gt;</c>, and whatever installs it uses a
/// NuGet cache of its own, so a package cached by an earlier run under the same version can never stand in for it.
/// </summary>
public sealed class PackageFixture : IAsyncLifetime
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);


    public string Feed { get; private set; } = string.Empty;

    public string Version { get; } = "0.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);

    public string Package => Path.Combine(Feed, $"VizHtml.{Version}.nupkg");

    public string SymbolPackage => Path.Combine(Feed, $"VizHtml.{Version}.snupkg");

    /// <summary>How long the pack took (an incremental build when the test run has built the library already).</summary>
    public TimeSpan PackTime { get; private set; }

    public async Task InitializeAsync()
    {
        Feed = Path.Combine(RepositoryBuild.Root, "artifacts", "package-feed");
        if (Directory.Exists(Feed))
        {
            Directory.Delete(Feed, recursive: true);
        }

        // The same configuration as the test run's build, so the pack finds the library built and only packs it.
        // PackageVersion (not Version) keeps the assemblies' inputs unchanged.
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var watch = Stopwatch.StartNew();
        await RepositoryBuild.OneAtATimeAsync(() => RunAsync(RepositoryBuild.Root, ["pack", "src/VizHtml", "-c", configuration, "-o", Feed, $"-p:PackageVersion={Version}", "--nologo", "-v", "q"]));
        PackTime = watch.Elapsed;
        Assert.True(File.Exists(Package), $"dotnet pack wrote no {Package}");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> and fails with its output when it exits with an error.</summary>
    public static async Task<string> RunAsync(string directory, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(CommandTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var text = new StringBuilder().Append(await output).Append(await errors).ToString();
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', start.ArgumentList)} (in {directory}) exited with {process.ExitCode}:\n{text}");
        return text;
    }
}
