using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using VizHtml.LoadGen.Results;

namespace VizHtml.LoadGen.Report;

/// <summary>What produced a results file and on which machine: written beside loadgen.json as loadgen.meta.json.</summary>
internal sealed record RunInfo(
    string Command,
    DateTime StartedUtc,
    DateTime FinishedUtc,
    int Runs,
    bool Quick,
    string Cores,
    string Cpu,
    string Kernel,
    string DotNet,
    string Node,
    string Bun)
{
    public static RunInfo Collect(string command, DateTime started, int runs, bool quick, string repoRoot) => new(
        command,
        started,
        DateTime.UtcNow,
        runs,
        quick,
        $"{Environment.ProcessorCount}",
        CpuModel(),
        File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        VersionOf("node", "--version", repoRoot),
        VersionOf(Path.Combine(repoRoot, Servers.ServerCatalog.NodeFolder, "node_modules/.bin/bun"), "--version", repoRoot));

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, ResultRow.Json) + "\n");

    public static RunInfo? Read(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<RunInfo>(File.ReadAllText(path), ResultRow.Json) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string VersionOf(string command, string argument, string workingDirectory)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, argument)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = workingDirectory,
            });
            if (process is null)
            {
                return "not found";
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit(10_000);
            return output.Length == 0 ? "not found" : output.Split('\n')[0];
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "not found";
        }
    }
}
