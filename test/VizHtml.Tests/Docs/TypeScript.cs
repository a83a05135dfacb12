using System.Diagnostics;

namespace VizHtml.Tests.Docs;

/// <summary>
/// The TypeScript compiler pinned in test/readme-typecheck (installed by scripts/test.sh), run by Node: the README's page
/// scripts and the contract declarations are checked with it.
/// </summary>
internal static class TypeScript
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VizHtml.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (VizHtml.slnx) was not found above the test binaries.");
    });

    /// <summary>What tsc prints with <paramref name="arguments"/> in <paramref name="workingDirectory"/>; empty when everything checks.</summary>
    public static string Run(string[] arguments, string workingDirectory)
    {
        var tool = Path.Combine(Root.Value, "test", "readme-typecheck");
        var tsc = Path.Combine(tool, "node_modules", "typescript", "bin", "tsc");
        Assert.True(File.Exists(tsc), $"TypeScript is not installed in {tool}: run `npm ci` there (scripts/test.sh does)");
        var start = new ProcessStartInfo("node", [tsc, .. arguments, "--pretty", "false"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("tsc ran for over 2 minutes");
        }

        var printed = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 0 || printed.Trim().Length > 0, $"tsc exited with {process.ExitCode} and printed nothing");
        return process.ExitCode == 0 ? "" : printed;
    }
}
