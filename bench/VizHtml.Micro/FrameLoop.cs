using System.Diagnostics;
using System.Globalization;

namespace VizHtml.Micro;

/// <summary>
/// Issue 15's frame loop in one process, for profiling (<c>perf record -t</c> on the main thread) and for the floors the
/// load generator's few-tablets row cannot show: a started server with N real clients (v1 or v2, in a child process on the
/// other core) and a loop that sleeps to each tick of HZ and calls <c>SendAll</c> once, measuring the call's wall time and
/// the calling thread's own CPU time. In the same moment of each tick, the floor: the same clocks around five dictionary
/// writes. Then the same loop again with only one thread-pool work item queued per tick (an empty one): the least any
/// hand-off to another thread costs the caller here.
/// <c>--frame-loop CLIENTS v1|v2 HZ SECONDS SIZE [busy]</c> (busy: the loop spins to the next tick instead of sleeping,
/// as a render loop busy with its own work would).
/// </summary>
internal static class FrameLoop
{
    public static int Run(string[] args)
    {
        var clients = int.Parse(args[1], CultureInfo.InvariantCulture);
        var v2 = args[2] == "v2";
        var hz = int.Parse(args[3], CultureInfo.InvariantCulture);
        var seconds = int.Parse(args[4], CultureInfo.InvariantCulture);
        var size = int.Parse(args[5], CultureInfo.InvariantCulture);
        var busy = args.Length > 6 && args[6] == "busy";
        using var rig = BroadcastRig.Start(clients, v2);
        var noop = new NoopItem();

        // Warm-up: enough calls for tiered compilation to reach its optimized code, and time for its background compiles.
        for (var i = 0; i < 2_000; i++)
        {
            rig.Server.SendAll("b", Payloads.Of(size));
            ThreadPool.UnsafeQueueUserWorkItem(noop, preferLocal: false);
            if (i % 200 == 199)
            {
                rig.WaitDrained();
                Thread.Sleep(50);
            }
        }

        Thread.Sleep(1000);
        var sendAll = Loop(hz, seconds, busy, tick => rig.Server.SendAll("b", Payloads.Of(size)), measureFloor: true);
        rig.WaitDrained();
        rig.EnsureHealthy();
        var wake = Loop(hz, seconds, busy, tick => ThreadPool.UnsafeQueueUserWorkItem(noop, preferLocal: false), measureFloor: false);
        Console.WriteLine($"{clients} {(v2 ? "v2" : "v1")} clients, {hz} Hz, {seconds} s, {size} B, {(busy ? "busy" : "sleeping")} loop (µs)");
        Console.WriteLine($"  SendAll            wall {P(sendAll.Wall)}   thread CPU {P(sendAll.Cpu)}");
        Console.WriteLine($"  floor              wall {P(sendAll.FloorWall)}   thread CPU {P(sendAll.FloorCpu)}");
        Console.WriteLine($"  one thread-pool wake wall {P(wake.Wall)}   thread CPU {P(wake.Cpu)}");
        return 0;
    }

    /// <summary><c>--idle-hold CLIENTS v1|v2 SECONDS</c>: N idle clients held for a heap dump (dotnet-gcdump) from outside.</summary>
    public static int Hold(string[] args)
    {
        using var rig = BroadcastRig.Start(int.Parse(args[1], CultureInfo.InvariantCulture), args[2] == "v2");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Console.WriteLine($"holding {rig.Server.ClientCount} clients, pid {Environment.ProcessId}");
        Thread.Sleep(TimeSpan.FromSeconds(int.Parse(args[3], CultureInfo.InvariantCulture)));
        return 0;
    }

    private static Samples Loop(int hz, int seconds, bool busy, Action<int> call, bool measureFloor)
    {
        var ticks = hz * seconds;
        var samples = new Samples(ticks);
        var floor = new Dictionary<int, int>();
        var period = Stopwatch.Frequency / (double)hz;
        var started = Stopwatch.GetTimestamp();
        for (var tick = 1; tick <= ticks; tick++)
        {
            var due = started + (long)(tick * period);
            if (busy)
            {
                while (Stopwatch.GetTimestamp() < due)
                {
                    Thread.SpinWait(20);
                }
            }
            else if (due - Stopwatch.GetTimestamp() is var wait and > 0)
            {
                Thread.Sleep(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency));
            }

            if (measureFloor)
            {
                var c0 = Native.ThreadCpuNanoseconds();
                var w0 = Stopwatch.GetTimestamp();
                for (var i = 0; i < 5; i++)
                {
                    floor[i] = tick;
                }

                samples.FloorWall[tick - 1] = Ns(Stopwatch.GetTimestamp() - w0);
                samples.FloorCpu[tick - 1] = Native.ThreadCpuNanoseconds() - c0;
            }

            var c1 = Native.ThreadCpuNanoseconds();
            var w1 = Stopwatch.GetTimestamp();
            call(tick);
            samples.Wall[tick - 1] = Ns(Stopwatch.GetTimestamp() - w1);
            samples.Cpu[tick - 1] = Native.ThreadCpuNanoseconds() - c1;
        }

        return samples;
    }

    private static long Ns(long ticks) => (long)(ticks * 1e9 / Stopwatch.Frequency);

    private static string P(long[] values)
    {
        Array.Sort(values);
        long At(double p) => values[Math.Min(values.Length - 1, (int)Math.Ceiling(p / 100 * values.Length) - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"p50 {At(50) / 1000.0,6:F1} p99 {At(99) / 1000.0,7:F1} max {values[^1] / 1000.0,8:F1}");
    }

    private sealed class Samples(int ticks)
    {
        public long[] Wall { get; } = new long[ticks];

        public long[] Cpu { get; } = new long[ticks];

        public long[] FloorWall { get; } = new long[ticks];

        public long[] FloorCpu { get; } = new long[ticks];
    }

    private sealed class NoopItem : IThreadPoolWorkItem
    {
        public void Execute()
        {
        }
    }
}
