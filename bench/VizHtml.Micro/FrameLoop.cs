using System.Diagnostics;
using System.Globalization;

namespace VizHtml.Micro;

/// <summary>
/// Issue 15's frame loop, in one process for profiling: a started server with N real clients (v1 or v2, in a child process
/// on the other core), and a loop that sleeps to each tick of HZ and calls <c>SendAll</c> once, measuring the call's wall
/// time and the calling thread's own CPU time. Beside it, in the same loop and the same moments, the floor: the same
/// clocks around N writes to a dictionary (what the machine charges for a little work right after a sleep).
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
        var ticks = hz * seconds;
        var wall = new long[ticks];
        var cpu = new long[ticks];
        var floorWall = new long[ticks];
        var floorCpu = new long[ticks];
        var floor = new Dictionary<int, int>();
        var serializeWall = new long[ticks];
        var wakeWall = new long[ticks];
        var noop = new NoopItem();
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

            var payload = Payloads.Of(size);
            var c0 = Native.ThreadCpuNanoseconds();
            var w0 = Stopwatch.GetTimestamp();
            for (var i = 0; i < clients; i++)
            {
                floor[i] = tick;
            }

            var w1 = Stopwatch.GetTimestamp();
            var c1 = Native.ThreadCpuNanoseconds();
            rig.Server.SendAll("b", payload);
            var w2 = Stopwatch.GetTimestamp();
            var c2 = Native.ThreadCpuNanoseconds();
            var w3 = Stopwatch.GetTimestamp();
            rig.Server.Hub.Serialize("b", payload);
            var w4 = Stopwatch.GetTimestamp();
            if (Environment.GetEnvironmentVariable("FRAME_LOOP_WAKE") == "1")
            {
                ThreadPool.UnsafeQueueUserWorkItem(noop, preferLocal: false);
            }

            var w5 = Stopwatch.GetTimestamp();
            serializeWall[tick - 1] = Ns(w4 - w3);
            wakeWall[tick - 1] = Ns(w5 - w4);
            floorWall[tick - 1] = Ns(w1 - w0);
            floorCpu[tick - 1] = c1 - c0;
            wall[tick - 1] = Ns(w2 - w1);
            cpu[tick - 1] = c2 - c1;
        }

        rig.WaitDrained();
        rig.EnsureHealthy();
        Console.WriteLine($"{clients} {(v2 ? "v2" : "v1")} clients, {hz} Hz, {seconds} s, {size} B, {(busy ? "busy" : "sleeping")} loop");
        Console.WriteLine($"  SendAll wall {P(wall)}   thread CPU {P(cpu)}");
        Console.WriteLine($"  floor   wall {P(floorWall)}   thread CPU {P(floorCpu)}");
        Console.WriteLine($"  after it: serialize wall {P(serializeWall)}   a thread-pool wake wall {P(wakeWall)}");
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

    private sealed class NoopItem : IThreadPoolWorkItem
    {
        public void Execute()
        {
        }
    }

    private static long Ns(long ticks) => (long)(ticks * 1e9 / Stopwatch.Frequency);

    private static string P(long[] values)
    {
        Array.Sort(values);
        long At(double p) => values[Math.Min(values.Length - 1, (int)Math.Ceiling(p / 100 * values.Length) - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"p50 {At(50) / 1000.0:F1} p99 {At(99) / 1000.0:F1} max {values[^1] / 1000.0:F1} µs");
    }
}
