using System.Runtime.InteropServices;

namespace VizHtml.Micro;

/// <summary>Linux thread identity and CPU time, which .NET does not expose for the current thread.</summary>
internal static partial class Native
{
    private const int ClockProcessCpuTime = 2; // CLOCK_PROCESS_CPUTIME_ID
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID
    private const long SysGettid = 186;        // x86-64

    /// <summary>CPU time the calling thread has used, in nanoseconds; 0 where it cannot be read.</summary>
    public static long ThreadCpuNanoseconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        return clock_gettime(ClockThreadCpuTime, out var time) == 0 ? (time.Seconds * 1_000_000_000) + time.Nanoseconds : 0;
    }

    /// <summary>CPU time all threads of this process have used, in nanoseconds; 0 where it cannot be read.</summary>
    public static long ProcessCpuNanoseconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (long)(Environment.CpuUsage.TotalTime.Ticks * 100);
        }

        return clock_gettime(ClockProcessCpuTime, out var time) == 0 ? (time.Seconds * 1_000_000_000) + time.Nanoseconds : 0;
    }

    /// <summary>The kernel's id of the calling thread (what EventListener reports as OSThreadId); -1 where unknown.</summary>
    public static long CurrentOsThreadId() =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64 ? syscall(SysGettid) : -1;

    [LibraryImport("libc")]
    private static partial int clock_gettime(int clock, out TimeSpec time);

    [LibraryImport("libc")]
    private static partial long syscall(long number);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
