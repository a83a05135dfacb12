using System.Diagnostics;
using System.Globalization;

namespace VizHtml.BenchServers;

/// <summary>
/// The stdin/stdout control protocol every benchmark server speaks (bench contract, "Server process contract"), shared
/// by the .NET servers. Commands are handled one at a time, in order, and each is answered with one line on stdout.
/// </summary>
internal static class ServerControl
{
    /// <summary>The port from the <c>PORT</c> environment variable; exits with 2 when it is missing or invalid.</summary>
    public static int PortFromEnvironment()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("PORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            Console.Error.WriteLine("PORT must be set to a TCP port (1..65535)");
            Environment.Exit(2);
        }

        return port;
    }

    /// <summary>
    /// Announces the port, then serves commands until <c>exit</c> or the end of stdin, and finally calls
    /// <paramref name="closeAsync"/>. The commands run on a dedicated thread, the way a host application's main loop
    /// calls the broadcast API, and so that a blocking stdin read never holds a thread-pool thread (with the process
    /// pinned to one core the pool starts with a single thread).
    /// </summary>
    /// <param name="port">The port announced in the <c>listening</c> line.</param>
    /// <param name="clients">The number of clients that completed the protocol's handshake.</param>
    /// <param name="broadcast">Sends one payload to every client with the framework's broadcast API.</param>
    /// <param name="closeAsync">Stops listening and closes the clients.</param>
    /// <param name="stopping">Signalled when something else (SIGTERM, Ctrl+C) stops the server.</param>
    /// <returns>
    /// Completes once <paramref name="closeAsync"/> has returned: after the commands ended, or after
    /// <paramref name="stopping"/> was signalled first.
    /// </returns>
    public static Task RunAsync(int port, Func<int> clients, Func<string, ValueTask> broadcast, Func<Task> closeAsync, CancellationToken stopping = default)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var closing = 0;
        var thread = new Thread(() =>
        {
            try
            {
                Reply($"listening {port}");
                var exitRequested = Serve(clients, broadcast);
                // A signal that came first is already closing the server and completes the task.
                if (Interlocked.Exchange(ref closing, 1) == 0)
                {
                    closeAsync().GetAwaiter().GetResult();
                    if (exitRequested)
                    {
                        Reply("exit");
                    }

                    done.TrySetResult(true);
                }
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        })
        {
            Name = "bench control",

            // A thread blocked reading stdin must not keep the process alive after a signal stopped the server.
            IsBackground = true,
        };
        thread.Start();

        // closeAsync itself may signal the token (a host's StopAsync does); the exit command then finishes first.
        stopping.Register(() =>
        {
            if (Interlocked.Exchange(ref closing, 1) == 0)
            {
                closeAsync().ContinueWith(closed => done.TrySetResult(true), TaskScheduler.Default);
            }
        });
        return done.Task;
    }

    /// <summary>Serves commands; true when <c>exit</c> ended it, false when stdin closed (the load generator is gone).</summary>
    private static bool Serve(Func<int> clients, Func<string, ValueTask> broadcast)
    {
        while (Console.In.ReadLine() is { } line)
        {
            // Split on any whitespace (a null separator), so a stray \r or tab is no word of its own.
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }

            switch (words[0])
            {
                case "clients" when words.Length == 1:
                    Reply($"clients {clients()}");
                    break;
                case "broadcast" when words.Length == 3 && TryParse(words[1], out var count) && TryParse(words[2], out var size):
                    Reply($"sent {count} {Broadcast(broadcast, count, size)}");
                    break;
                case "stream" when words.Length == 4 && TryParse(words[1], out var hz) && hz > 0 && TryParse(words[2], out var seconds) && TryParse(words[3], out var size):
                    Reply($"streamed {Stream(broadcast, hz, seconds, size)}");
                    break;
                case "gc" when words.Length == 1:
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    GC.Collect();
                    Reply("gc");
                    break;
                case "exit" when words.Length == 1:
                    return true;
                default:
                    Reply($"error unknown command: {line}");
                    break;
            }
        }

        return false;
    }

    /// <summary>Broadcasts <paramref name="count"/> payloads back to back and returns how long the send calls took, in ns.</summary>
    private static long Broadcast(Func<string, ValueTask> broadcast, int count, int size)
    {
        var started = NowNanoseconds();
        for (var i = 0; i < count; i++)
        {
            Wait(broadcast(Payload(size)));
        }

        return NowNanoseconds() - started;
    }

    /// <summary>
    /// One broadcast per tick for <paramref name="hz"/> × <paramref name="seconds"/> ticks, each tick scheduled from the
    /// start so that a late tick does not delay the ones after it. Returns the number of ticks, then what each broadcast
    /// call cost the calling thread (a frame loop's budget), from the call to its return with the payload already made:
    /// wall time (which on a busy core includes other threads that ran meanwhile, such as the writers the call woke) and
    /// the thread's own CPU time, then the same two for the floor (five dictionary writes just before each call):
    /// <c>&lt;ticks&gt; &lt;wall p50&gt; &lt;p99&gt; &lt;max&gt; &lt;CPU p50&gt; &lt;p99&gt; &lt;max&gt; &lt;floor wall p50 p99 max&gt; &lt;floor CPU p50 p99 max&gt;</c>, in ns.
    /// </summary>
    private static string Stream(Func<string, ValueTask> broadcast, int hz, int seconds, int size)
    {
        var ticks = hz * seconds;
        var periodNs = 1_000_000_000.0 / hz;
        var wall = new long[ticks];
        var cpu = new long[ticks];
        var floorWall = new long[ticks];
        var floorCpu = new long[ticks];
        var floor = new Dictionary<int, int>();
        var started = NowNanoseconds();
        for (var tick = 1; tick <= ticks; tick++)
        {
            var waitNs = (tick * periodNs) - (NowNanoseconds() - started);
            if (waitNs > 0)
            {
                Thread.Sleep(TimeSpan.FromTicks((long)(waitNs / 100)));
            }

            var payload = Payload(size);

            // The floor, in the same moment of each tick: what this machine charges for a little work (five dictionary writes)
            // right after the thread slept, with the same two clocks around it.
            var floorCpuBefore = ThreadCpuNanoseconds();
            var floorBefore = NowNanoseconds();
            for (var i = 0; i < 5; i++)
            {
                floor[i] = tick;
            }

            floorWall[tick - 1] = NowNanoseconds() - floorBefore;
            floorCpu[tick - 1] = ThreadCpuNanoseconds() - floorCpuBefore;
            var cpuBefore = ThreadCpuNanoseconds();
            var before = NowNanoseconds();
            Wait(broadcast(payload));
            wall[tick - 1] = NowNanoseconds() - before;
            cpu[tick - 1] = ThreadCpuNanoseconds() - cpuBefore;
        }

        return string.Join(" ", ticks, Percentiles(wall), Percentiles(cpu), Percentiles(floorWall), Percentiles(floorCpu));
    }

    /// <summary>"p50 p99 max" of <paramref name="values"/> (sorted in place).</summary>
    private static string Percentiles(long[] values)
    {
        if (values.Length == 0)
        {
            return "0 0 0";
        }

        Array.Sort(values);
        long At(double percentile) => values[Math.Min(values.Length - 1, Math.Max(0, (int)Math.Ceiling(percentile / 100 * values.Length) - 1))];
        return string.Join(" ", At(50), At(99), values[values.Length - 1]);
    }

    /// <summary>CPU time of the calling thread in ns (CLOCK_THREAD_CPUTIME_ID, Linux); 0 elsewhere.</summary>
    private static long ThreadCpuNanoseconds()
    {
        try
        {
            return clock_gettime(3, out var time) == 0 ? (time.Seconds * 1_000_000_000) + time.Nanoseconds : 0;
        }
        catch (DllNotFoundException)
        {
            return 0;
        }
        catch (EntryPointNotFoundException)
        {
            return 0;
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int clock_gettime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>
    /// The payload of one benchmark message: the monotonic clock in ns as 20 zero-padded digits, then 'x' up to
    /// <paramref name="size"/> characters (all ASCII, so characters are bytes). Never shorter than the timestamp.
    /// </summary>
    public static string Payload(int size)
    {
#if NET
        return string.Create(Math.Max(size, 20), NowNanoseconds(), static (chars, now) =>
        {
            now.TryFormat(chars[..20], out _, "D20", CultureInfo.InvariantCulture);
            chars[20..].Fill('x');
        });
#else
        // .NET Framework (the Mono server): no string.Create; one extra copy per broadcast, not per client.
        var chars = new char[Math.Max(size, 20)];
        NowNanoseconds().ToString("D20", CultureInfo.InvariantCulture).CopyTo(0, chars, 0, 20);
        for (var i = 20; i < chars.Length; i++)
        {
            chars[i] = 'x';
        }

        return new string(chars);
#endif
    }

    /// <summary>The monotonic clock in ns (on Linux, Stopwatch is CLOCK_MONOTONIC with a 1 ns tick, as Node's hrtime).</summary>
    public static long NowNanoseconds()
    {
        var ticks = Stopwatch.GetTimestamp();
#if NET
        return Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)((Int128)ticks * 1_000_000_000 / Stopwatch.Frequency);
#else
        // Mono's Stopwatch counts 100 ns ticks of CLOCK_MONOTONIC: whole seconds and the rest apart, so nothing overflows.
        var frequency = Stopwatch.Frequency;
        return (ticks / frequency * 1_000_000_000) + (ticks % frequency * 1_000_000_000 / frequency);
#endif
    }

    private static void Wait(ValueTask sending)
    {
        if (!sending.IsCompletedSuccessfully)
        {
            sending.AsTask().GetAwaiter().GetResult();
        }
    }

    private static bool TryParse(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static void Reply(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}
