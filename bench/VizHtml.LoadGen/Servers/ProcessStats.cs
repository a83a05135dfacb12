using System.Globalization;

namespace VizHtml.LoadGen.Servers;

/// <summary>CPU time of a set of processes at one moment, read two ways (see <see cref="CpuDeltaNs"/>).</summary>
/// <param name="SchedulerNs">Sum of every live thread's /proc/PID/task/TID/schedstat run time, ns precision.</param>
/// <param name="TicksNs">utime + stime of /proc/PID/stat (includes threads that exited), 10 ms precision.</param>
internal readonly record struct CpuSample(long SchedulerNs, long TicksNs);

/// <summary>Reads what Linux says about a process tree: CPU time and resident memory.</summary>
internal static class ProcessStats
{
    private const long NsPerTick = 10_000_000; // sysconf(_SC_CLK_TCK) is 100 on Linux.

    public static CpuSample ReadCpu(IReadOnlyList<int> pids)
    {
        long scheduler = 0, ticks = 0;
        foreach (var pid in pids)
        {
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
                {
                    var text = File.ReadAllText(Path.Combine(task, "schedstat"));
                    scheduler += long.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
                }

                var fields = StatFields(pid);
                ticks += (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * NsPerTick;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A thread or process that ended while being read.
            }
        }

        return new CpuSample(scheduler, ticks);
    }

    /// <summary>
    /// CPU used between two samples. The scheduler sum is precise but forgets threads that exited in between (the .NET
    /// thread pool retires idle workers); when the tick count says more than a tick's worth beyond it, trust the ticks.
    /// </summary>
    public static long CpuDeltaNs(CpuSample before, CpuSample after)
    {
        var precise = after.SchedulerNs - before.SchedulerNs;
        var coarse = after.TicksNs - before.TicksNs;
        return coarse > precise + (2 * NsPerTick) ? coarse : precise;
    }

    /// <summary>VmRSS summed over the processes, in bytes.</summary>
    public static long ReadRssBytes(IReadOnlyList<int> pids)
    {
        long total = 0;
        foreach (var pid in pids)
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                {
                    if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    {
                        var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                        total += long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                    }
                }
            }
            catch (IOException)
            {
            }
        }

        return total;
    }

    /// <summary>The process and all its descendants (a launcher script may start the real server as a child).</summary>
    public static List<int> Tree(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var parent = int.Parse(StatFields(pid)[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parent, out var list))
                {
                    children[parent] = list = [];
                }

                list.Add(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
            }
        }

        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            if (children.TryGetValue(tree[i], out var list))
            {
                tree.AddRange(list);
            }
        }

        return tree;
    }

    /// <summary>Fields of /proc/PID/stat after the command name (field 3, state, is index 0).</summary>
    private static string[] StatFields(int pid)
    {
        var text = File.ReadAllText($"/proc/{pid}/stat");
        return text[(text.LastIndexOf(')') + 2)..].Split(' ');
    }
}
