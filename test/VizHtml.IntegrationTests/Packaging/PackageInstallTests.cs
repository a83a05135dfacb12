using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.Packaging;

/// <summary>
/// The package as a user gets it: a fresh console project takes VizHtml from the local feed (README, "Add VizHtml to
/// your project"), runs the README's "Use it" program and page, taken from README.md itself, and Chromium does the round
/// trip (the page shows the poses the program sends; a click comes back as an ack).
/// </summary>
[Collection(PackageTests.Name)]
public sealed partial class PackageInstallTests(PackageFixture package, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task TheReadmeProgramRunsFromTheInstalledPackageAndRoundTripsWithChromium()
    {
        var watch = Stopwatch.StartNew();
        var work = Path.Combine(Path.GetTempPath(), "vizhtml-package-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            // Outside the repository, so none of its Directory.Build.props or central package versions apply; a NuGet
            // cache of its own, so only the package just packed can be restored.
            var project = Path.Combine(work, "MyLab");
            var isolated = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(work, "nuget-packages") };
            await PackageFixture.RunAsync(work, ["new", "console", "-o", "MyLab", "--no-restore"], isolated);
            await PackageFixture.RunAsync(project, ["new", "nugetconfig"], isolated);
            await PackageFixture.RunAsync(project, ["nuget", "add", "source", package.Feed, "--name", "local", "--configfile", "nuget.config"], isolated);
            await PackageFixture.RunAsync(project, ["add", "package", "VizHtml", "--version", package.Version], isolated);

            // The README's program and page; only the port changes (0: a free one), so parallel runs never collide.
            var useIt = ReadmeUseIt.Read(await File.ReadAllTextAsync(Path.Combine(RepositoryBuild.Root, "README.md")));
            const string ReadmePort = "Port = 8080";
            Assert.Contains(ReadmePort, useIt.Program, StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(project, "Program.cs"), useIt.Program.Replace(ReadmePort, "Port = 0", StringComparison.Ordinal));
            await File.WriteAllTextAsync(Path.Combine(project, "panel.html"), useIt.Page);
            await PackageFixture.RunAsync(project, ["build", "--nologo", "-v", "q"], isolated);

            // The package restored is the one just packed, from the local feed, and brings no imaging library with it.
            using (var assets = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(project, "obj", "project.assets.json"))))
            {
                var libraries = assets.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToList();
                Assert.Contains($"VizHtml/{package.Version}", libraries);
                Assert.DoesNotContain(libraries, l => l.StartsWith("System.Drawing.Common/", StringComparison.OrdinalIgnoreCase) || l.StartsWith("QRCoder/", StringComparison.OrdinalIgnoreCase));
            }

            var setup = watch.Elapsed;
            await using var program = await StartProgramAsync(project, Path.Combine(project, "bin", "Debug", "net10.0", "MyLab.dll"));
            await using var context = await browser.NewContextAsync();
            var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
            var pageErrors = PageDiagnostics.CollectPageErrors(page);

            await page.GotoAsync($"http://127.0.0.1:{program.Port}/vizhtml/panel/");

            // Poses arrive (x, y from the program's cos and sin, z = 0) and keep changing.
            await Expect(page.Locator("#pose")).ToHaveTextAsync(PoseText());
            var first = await page.Locator("#pose").InnerTextAsync();
            await Expect(page.Locator("#pose")).Not.ToHaveTextAsync(first);
            await program.Lines.WaitForAsync(l => l.Contains("hello 127.0.0.1"));

            // Each click is answered with an ack carrying its count.
            await page.ClickAsync("#click_me");
            await Expect(page.Locator("#clicks")).ToHaveTextAsync("1 clicks");
            await page.ClickAsync("#click_me");
            await Expect(page.Locator("#clicks")).ToHaveTextAsync("2 clicks");

            Assert.Empty(pageErrors);
            Assert.DoesNotContain(program.Lines.Items, l => l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.StartsWith("stderr:", StringComparison.Ordinal));
            Console.WriteLine($"PackageInstallTests: pack {package.PackTime.TotalSeconds:F1} s, new project + restore + build {setup.TotalSeconds:F1} s, total {watch.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The installed program, run from its project folder (it reads panel.html from there).</summary>
    private static Task<ProgramUnderTest> StartProgramAsync(string directory, string assembly)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory };
        start.ArgumentList.Add(assembly);

        // The README's program prints "Open {server.GetServerUrl("panel")}": this machine's LAN address and the port.
        return ProgramUnderTest.StartAsync("The README's program", start, line =>
            OpenLine().Match(line) is { Success: true } open ? int.Parse(open.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture) : null,
            TestServer.Timeout);
    }

    [GeneratedRegex(@"^Open https?://[^/]+:(?<port>\d+)/vizhtml/panel/")]
    private static partial Regex OpenLine();

    [GeneratedRegex(@"^-?\d\.\d\d, -?\d\.\d\d, 0$")]
    private static partial Regex PoseText();
}
