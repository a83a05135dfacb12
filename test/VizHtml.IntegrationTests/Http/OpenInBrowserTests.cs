using System.Runtime.Versioning;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

/// <summary>Tests that change process-wide state (PATH) run alone, never beside a test that starts processes.</summary>
[CollectionDefinition("ProcessEnvironment", DisableParallelization = true)]
public sealed class ProcessEnvironmentDefinition;

/// <summary>OpenInBrowser on Linux, with a fake xdg-open found through PATH.</summary>
[Collection("ProcessEnvironment")]
[SupportedOSPlatform("linux")]
public sealed class OpenInBrowserTests
{
    [Theory, OnOwnHosts]
    public async Task OpenInBrowserRunsXdgOpenWithThePageLocalUrl(TestHost host)
    {
        using var dir = new TempDirectory();
        var output = WriteFakeXdgOpen(dir);
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("page", "<p>page</p>");

        bool started;
        using (PathVariable.Prepend(dir.PathOf("bin")))
        {
            started = test.Server.OpenInBrowser("page");
        }

        Assert.True(started);
        Assert.Equal(test.Server.GetLocalUrl("page").ToString(), await ReadWhenWrittenAsync(output));
    }

    [Theory, OnOwnHosts]
    public async Task OpenInBrowserWithoutAPageOpensTheIndex(TestHost host)
    {
        using var dir = new TempDirectory();
        var output = WriteFakeXdgOpen(dir);
        await using var test = await TestServer.StartAsync(host);

        using (PathVariable.Prepend(dir.PathOf("bin")))
        {
            Assert.True(test.Server.OpenInBrowser());
        }

        var url = await ReadWhenWrittenAsync(output);
        Assert.Equal(test.Server.GetLocalUrl().ToString(), url);
        Assert.Equal($"http://localhost:{test.Server.Port}/vizhtml/", url);
    }

    [Theory, OnOwnHosts]
    public async Task OpenInBrowserWithoutALauncherReturnsFalse(TestHost host)
    {
        using var dir = new TempDirectory();
        var empty = dir.CreateDirectory("empty-bin");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("page", "<p>page</p>");

        using (PathVariable.Replace(empty))
        {
            Assert.False(test.Server.OpenInBrowser("page"));
        }
    }

    /// <summary>Writes bin/xdg-open, a script that records its argument in a file, and returns that file's path.</summary>
    private static string WriteFakeXdgOpen(TempDirectory dir)
    {
        var output = dir.PathOf("opened-url.txt");

        // Written beside and then renamed, so the poll below never reads a half-written file.
        var script = dir.Write("bin/xdg-open", $"#!/bin/sh\nprintf '%s' \"$1\" > '{output}.partial' && mv '{output}.partial' '{output}'\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return output;
    }

    /// <summary>Polls for the fake launcher's output: it is written by a separate process, so there is no signal to await.</summary>
    private static async Task<string> ReadWhenWrittenAsync(string path)
    {
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        while (!File.Exists(path))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The fake xdg-open did not write {path} within {TestServer.Timeout}.");
            await Task.Delay(20);
        }

        return await File.ReadAllTextAsync(path);
    }

    /// <summary>Sets PATH for the test process and restores the original value when disposed.</summary>
    private sealed class PathVariable : IDisposable
    {
        private readonly string? _original = Environment.GetEnvironmentVariable("PATH");

        private PathVariable(Func<string?, string> change) => Environment.SetEnvironmentVariable("PATH", change(_original));

        public static PathVariable Prepend(string directory) => new(original => directory + Path.PathSeparator + original);

        public static PathVariable Replace(string directory) => new(_ => directory);

        public void Dispose() => Environment.SetEnvironmentVariable("PATH", _original);
    }
}
