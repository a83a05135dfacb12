using System.Diagnostics;

namespace VizHtml.Micro;

/// <summary>
/// Starts this program again in another role (client swarm, probe), pinned to one core with <c>taskset</c> as the suite
/// pins its processes: the measured server on core 0, the clients that load it on core 1. Unpinned where <c>taskset</c> or
/// a second core is missing.
/// </summary>
internal static class SelfProcess
{
    /// <summary>Environment variable naming this program's assembly (set by the host, inherited by benchmark processes).</summary>
    public const string ProgramVariable = "VIZHTML_MICRO_PROGRAM";

    public const int ServerCore = 0;
    public const int ClientCore = 1;

    private static readonly string? Taskset = new[] { "/usr/bin/taskset", "/bin/taskset" }.FirstOrDefault(File.Exists);

    public static bool CanPin => Taskset is not null && Environment.ProcessorCount >= 2 && OperatingSystem.IsLinux();

    public static ProcessStartInfo StartInfo(int? core, params string[] args)
    {
        var program = Environment.GetEnvironmentVariable(ProgramVariable) ?? typeof(SelfProcess).Assembly.Location;
        var apphost = Path.ChangeExtension(program, null);
        var command = File.Exists(apphost) && !OperatingSystem.IsWindows() ? [apphost] : new[] { "dotnet", program };
        if (core is { } pinned && CanPin)
        {
            command = [Taskset!, "-c", pinned.ToString(System.Globalization.CultureInfo.InvariantCulture), .. command];
        }

        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (var arg in command.Skip(1).Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
