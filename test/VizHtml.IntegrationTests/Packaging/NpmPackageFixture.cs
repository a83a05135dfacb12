using System.Diagnostics;

namespace VizHtml.IntegrationTests.Packaging;

/// <summary>
/// Packs npm/vizhtml with <c>npm pack</c> (its prepack step builds it from src/VizHtml/Script), installs the tarball
/// into a fresh copy of test/npm-package (a page that imports it as an ES module) and bundles that page with esbuild,
/// once per test class. esbuild and TypeScript are pinned in test/npm-package's lock file (<c>npm ci</c> there:
/// scripts/test.sh runs it).
/// </summary>
public sealed class NpmPackageFixture : IAsyncLifetime
{
    /// <summary>Each npm, esbuild or tsc run; the whole fixture takes a few seconds.</summary>
    public static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    private DirectoryInfo? _work;

    public static string Root { get; } = FindRoot();

    public static string ScriptSource => Path.Combine(Root, "src", "VizHtml", "Script");

    /// <summary>The page project, with the packed package installed in its node_modules.</summary>
    public string App => Path.Combine(Work, "app");

    /// <summary>The tarball <c>npm pack</c> wrote.</summary>
    public string Tarball { get; private set; } = "";

    /// <summary>What the page's server serves: index.html and the bundle.</summary>
    public string Site => Path.Combine(Work, "site");

    private static string Tools => Path.Combine(Root, "test", "npm-package");

    private string Work => _work?.FullName ?? throw new InvalidOperationException("The fixture is not initialized.");

    public async Task InitializeAsync()
    {
        var tsc = Path.Combine(Tools, "node_modules", "typescript", "bin", "tsc");
        var esbuild = Path.Combine(Tools, "node_modules", ".bin", "esbuild");
        if (!File.Exists(tsc) || !File.Exists(esbuild))
        {
            throw new InvalidOperationException($"esbuild and TypeScript are not installed in {Tools}: run `npm ci` there (scripts/test.sh does).");
        }

        _work = Directory.CreateTempSubdirectory("vizhtml-npm-");
        var packed = Directory.CreateDirectory(Path.Combine(Work, "packed"));
        await RunAsync(Path.Combine(Root, "npm", "vizhtml"), "npm", "pack", "--pack-destination", packed.FullName, "--loglevel=error");
        Tarball = Assert.Single(packed.GetFiles("vizhtml-*.tgz")).FullName;

        Directory.CreateDirectory(Path.Combine(App, "page"));
        File.Copy(Path.Combine(Tools, "tsconfig.json"), Path.Combine(App, "tsconfig.json"));
        foreach (var file in Directory.GetFiles(Path.Combine(Tools, "page")))
        {
            File.Copy(file, Path.Combine(App, "page", Path.GetFileName(file)));
        }

        await File.WriteAllTextAsync(Path.Combine(App, "package.json"), """{ "name": "bundled-page", "private": true }""");

        // A local tarball without dependencies: nothing to fetch.
        await RunAsync(App, "npm", "install", Tarball, "--offline", "--no-audit", "--no-fund", "--loglevel=error");

        Directory.CreateDirectory(Site);
        File.Copy(Path.Combine(App, "page", "index.html"), Path.Combine(Site, "index.html"));
        await RunAsync(App, esbuild, "page/page.ts", "--bundle", "--format=esm", "--target=es2022", $"--outfile={Path.Combine(Site, "bundle.js")}", "--log-level=warning");
    }

    /// <summary>Runs the pinned tsc in the app with <paramref name="arguments"/> (e.g. <c>-p tsconfig.json</c>); what it printed, empty when it passed.</summary>
    public async Task<string> TypeCheckAsync(params string[] arguments)
    {
        var tsc = Path.Combine(Tools, "node_modules", "typescript", "bin", "tsc");
        var (exitCode, printed) = await RunCoreAsync(App, "node", [tsc, .. arguments, "--pretty", "false"]);
        Assert.True(exitCode == 0 || printed.Trim().Length > 0, $"tsc exited with {exitCode} and printed nothing");
        return exitCode == 0 ? "" : printed;
    }

    public Task DisposeAsync()
    {
        _work?.Delete(recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Runs a tool to its end; what it printed on stdout. A failure carries everything it printed.</summary>
    public static async Task<string> RunAsync(string folder, string tool, params string[] arguments)
    {
        var (exitCode, printed) = await RunCoreAsync(folder, tool, arguments);
        Assert.True(exitCode == 0, $"`{tool} {string.Join(' ', arguments)}` in {folder} exited with {exitCode}:\n{printed}");
        return printed;
    }

    private static async Task<(int ExitCode, string Printed)> RunCoreAsync(string folder, string tool, string[] arguments)
    {
        var start = new ProcessStartInfo(tool, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        start.Environment["NO_UPDATE_NOTIFIER"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{tool} {string.Join(' ', arguments)}` ran for over {ToolTimeout.TotalSeconds} s");
        }

        return (process.ExitCode, await stdout + await stderr);
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

        throw new InvalidOperationException($"No VizHtml.slnx above {AppContext.BaseDirectory}");
    }
}
