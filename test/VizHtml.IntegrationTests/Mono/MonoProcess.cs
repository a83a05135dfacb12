using System.Diagnostics;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Mono;

/// <summary>
/// A scenario of test/VizHtml.MonoHost running under Debian's Mono (<c>mono VizHtml.MonoHost.exe &lt;scenario&gt;</c>):
/// VizHtml's .NET Standard build and its standalone host, in the runtime Unity players use. The scenario prints
/// <c>PORT n</c> once it listens, then reports one line per thing it saw; it takes commands on standard input, and
/// <c>exit</c> stops its server and ends it.
/// </summary>
public static class MonoProcess
{
    /// <summary>The built host program (same configuration as the tests).</summary>
    public static string ExePath => Path.Combine(RepositoryBuild.Root, "test", "VizHtml.MonoHost", "bin", RepositoryBuild.Configuration, "net48", "VizHtml.MonoHost.exe");

    /// <summary>Starts <paramref name="scenario"/> with <paramref name="settings"/> (<c>name=value</c>) and waits until it listens.</summary>
    public static Task<ProgramUnderTest> StartAsync(string scenario, params string[] settings)
    {
        var mono = new[] { "/usr/bin/mono", "/usr/local/bin/mono" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("Mono is not installed: scripts/test.sh installs it (apt-get install mono-devel).");
        Assert.True(File.Exists(ExePath), $"{ExePath} is missing: build test/VizHtml.MonoHost (the solution build does).");
        var start = new ProcessStartInfo(mono);
        foreach (var argument in new[] { "--debug", ExePath, scenario }.Concat(settings))
        {
            start.ArgumentList.Add(argument);
        }

        // Mono's first start compiles a lot: more than the usual test timeout. Tests compare Lines exactly and check
        // Errors apart, so standard error stays out of Lines.
        return ProgramUnderTest.StartAsync(
            $"The Mono scenario {scenario}", start, line => line.StartsWith("PORT ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(5), out var port) ? port : null,
            TimeSpan.FromSeconds(30), reportPortLine: false, exitCommand: "exit", errorsInLines: false);
    }
}
