using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace VizHtml.IntegrationTests.Packaging;

/// <summary>
/// Packs npm/vizhtml with <c>npm pack</c> (its prepack step builds it from src/VizHtml/Script), installs the tarball
/// into a fresh copy of test/npm-package (a page that imports it as an ES module), bundles that page with esbuild and
/// type-checks it, once per test class. esbuild and TypeScript are pinned in test/npm-package's lock file (<c>npm ci</c> there:
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

        // One tsc run (seconds each) for every check: page/ as written, unchecked/ (page.ts without its
        // @ts-expect-error directives) and readme/ (README.md's ```ts blocks), each file a module of its own.
        var lines = await File.ReadAllLinesAsync(Path.Combine(App, "page", "page.ts"));
        MistakeLines = lines.Select((line, i) => (line, i))
            .Where(l => l.line.TrimStart().StartsWith("// @ts-expect-error", StringComparison.Ordinal))
            .Select(l => l.i + 2)
            .ToList();
        Directory.CreateDirectory(Path.Combine(App, "unchecked"));
        await File.WriteAllLinesAsync(
            Path.Combine(App, "unchecked", "page.ts"),
            lines.Select(l => l.Replace("// @ts-expect-error", "// (was @ts-expect-error)", StringComparison.Ordinal)));
        ReadmeBlocks = ReadmeTypeScriptBlocks();
        Directory.CreateDirectory(Path.Combine(App, "readme"));
        foreach (var (firstLine, code) in ReadmeBlocks)
        {
            // Blank lines up to the block, so tsc's line numbers are README.md's.
            await File.WriteAllTextAsync(Path.Combine(App, "readme", $"readme-{firstLine.ToString(CultureInfo.InvariantCulture)}.ts"), new string('\n', firstLine - 1) + code + "\n");
        }

        await File.WriteAllTextAsync(
            Path.Combine(App, "tsconfig.all.json"),
            """{ "extends": "./tsconfig.json", "include": ["page/*.ts", "unchecked/*.ts", "readme/*.ts"] }""");
        var (exitCode, printed) = await RunCoreAsync(App, "node", [Path.Combine(Tools, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.all.json", "--pretty", "false"]);
        Assert.True(exitCode == 0 || printed.Trim().Length > 0, $"tsc exited with {exitCode} and printed nothing");
        TypeCheck = exitCode == 0 ? "" : printed;
    }

    /// <summary>Lines of page.ts that must not compile: each one below a <c>// @ts-expect-error</c>.</summary>
    public IReadOnlyList<int> MistakeLines { get; private set; } = [];

    /// <summary>README.md's ```ts blocks: the line of each one's first line of code, and its code.</summary>
    public IReadOnlyList<(int FirstLine, string Code)> ReadmeBlocks { get; private set; } = [];

    /// <summary>What tsc --strict printed over page/, unchecked/ and readme/ (one diagnostic a line, continuations indented).</summary>
    public string TypeCheck { get; private set; } = "";

    /// <summary>The diagnostics of the files under <paramref name="folder"/> (of the app): each with its continuation lines.</summary>
    public List<(int Line, string Text)> DiagnosticsIn(string folder)
    {
        var found = new List<(int, string)>();
        var inFolder = false;
        foreach (var line in TypeCheck.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var diagnostic = Regex.Match(line, @"^(\S+?)\((\d+),\d+\): ");
            if (diagnostic.Success || !line.StartsWith(' '))
            {
                inFolder = diagnostic.Success && diagnostic.Groups[1].Value.StartsWith(folder + "/", StringComparison.Ordinal);
                if (inFolder)
                {
                    found.Add((int.Parse(diagnostic.Groups[2].Value, CultureInfo.InvariantCulture), line.TrimEnd()));
                }
                else if (!diagnostic.Success)
                {
                    // Not about one file (a broken tsconfig, a missing module): every check sees it.
                    found.Add((0, line.TrimEnd()));
                }
            }
            else if (inFolder)
            {
                found[^1] = (found[^1].Item1, found[^1].Item2 + "\n" + line.TrimEnd());
            }
        }

        return found;
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

    private static List<(int FirstLine, string Code)> ReadmeTypeScriptBlocks()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "README.md"));
        var blocks = new List<(int, string)>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimEnd() != "```ts")
            {
                continue;
            }

            var end = Array.FindIndex(lines, i + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            Assert.True(end > i, $"The ```ts block at README.md line {i + 1} is never closed");
            blocks.Add((i + 2, string.Join('\n', lines[(i + 1)..end])));
            i = end;
        }

        return blocks;
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
