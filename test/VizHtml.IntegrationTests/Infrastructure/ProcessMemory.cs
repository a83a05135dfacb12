using System.Runtime;

namespace VizHtml.IntegrationTests.Infrastructure;

/// <summary>
/// Tests that assert on the process's memory run alone (after the parallel ones), so no other test's allocations count
/// against their bounds.
/// </summary>
[CollectionDefinition("Memory", DisableParallelization = true)]
public sealed class MemoryCollectionDefinition;

/// <summary>What this process holds: its resident set (Linux <c>VmRSS</c>) and the managed heap after a full, compacting collection.</summary>
public static class ProcessMemory
{
    public const long MiB = 1024 * 1024;

    /// <summary>Resident set size in bytes (<c>VmRSS</c> in <c>/proc/self/status</c>).</summary>
    public static long ResidentBytes() => StatusBytes("VmRSS:");

    /// <summary>The resident set at its highest since <see cref="ResetPeakResident"/> or the start (<c>VmHWM</c>): no peak is missed between samples.</summary>
    public static long PeakResidentBytes() => StatusBytes("VmHWM:");

    /// <summary>Makes the high-water mark the current resident set (through <c>/proc/self/clear_refs</c>).</summary>
    public static void ResetPeakResident() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static long StatusBytes(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var kb = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/self/status has no {field} line");
    }

    /// <summary>A full blocking collection with the large-object heap compacted, then the managed heap's size in bytes.</summary>
    public static long HeapAfterFullCollection()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }

    /// <summary>Collects fully, then the resident set: memory given back to the operating system shows here.</summary>
    public static long ResidentAfterFullCollection()
    {
        HeapAfterFullCollection();
        return ResidentBytes();
    }

    public static string Format(long bytes) => $"{bytes / (double)MiB:F1} MiB";
}
