using System.Diagnostics;
using VizHtml.BenchServers;

namespace VizHtml.Micro;

/// <summary>One scenario of the interleaved metrics-cost comparison: per round, the server process's CPU per delivery
/// with nobody listening and with <see cref="TelemetryListeners"/> attached.</summary>
internal sealed record MetricsCostResult(string Scenario, int Clients, int Size, long DeliveriesPerBlock, double[] UnlistenedNs, double[] ListenedNs)
{
    /// <summary>Per round: listened ÷ unlistened, the two blocks of one round being next to each other in time.</summary>
    public double[] Ratios => ListenedNs.Zip(UnlistenedNs, (on, off) => on / off).ToArray();
}

/// <summary>
/// The cost of metrics and tracing on the broadcast path (issue 13), measured so that the difference judged (3 %) is
/// larger than the noise of the measurement. Comparing two server processes, as the load generator does, moved the same
/// server's CPU per delivery by up to 30 % from run to run: how many events each socket write happens to carry (batching)
/// and where the JIT and the heap settle differ from process to process. Here one server process with the same connected
/// clients alternates between the two states many times:
/// <list type="bullet">
/// <item>a block with nobody listening to VizHtml's meter and activity source, and a block with the bench servers'
/// <see cref="TelemetryListeners"/> attached (every <c>VizHtml</c> instrument enabled, counters summed with
/// <c>Interlocked</c>, the observable instruments collected once a second, every span recorded) and detached after it;</item>
/// <item>each block sends the same number of broadcasts in bursts from empty send queues (as the allocation probe does)
/// and ends when every client has received every envelope; its figure is the process's CPU time
/// (<c>CLOCK_PROCESS_CPUTIME_ID</c>: the write loops, the socket writes, the reading of acknowledgements, the listener
/// callbacks) divided by the deliveries;</item>
/// <item>the two blocks of a round run back to back, in alternating order from round to round, after a full garbage
/// collection each, so drift of the machine over the run falls on both equally; the figure judged is the mean over the
/// rounds of listened ÷ unlistened, with its 95 % confidence interval.</item>
/// </list>
/// The server runs on core 0 (this process, started pinned) and the clients in a child process on core 1.
/// </summary>
internal static class MetricsCost
{
    public static MetricsCostResult Run(int clients, int size, bool v2, int rounds, long deliveriesPerBlock, TextWriter log)
    {
        var scenario = $"interleaved-{(v2 ? "v2" : "v1")}-{clients}x{size}";
        using var rig = BroadcastRig.Start(clients, v2);
        var payload = Payloads.Of(size);
        var burst = Bursts.Of(clients);
        var bursts = (int)Math.Max(1, Math.Ceiling((double)deliveriesPerBlock / ((long)burst * clients)));
        var expected = (long)bursts * burst * clients;
        long sent = 0;
        var (off, on) = Interleave(scenario, rounds, log, listen =>
        {
            rig.WaitDrained();
            rig.WaitReceived(sent * clients);
            var ns = Measure(listen, expected, () =>
            {
                long queued = 0;
                for (var b = 0; b < bursts; b++)
                {
                    rig.WaitDrained();
                    for (var i = 0; i < burst; i++)
                    {
                        queued += rig.Server.SendAll(Payloads.EventName, payload);
                    }
                }

                sent += (long)bursts * burst;
                rig.WaitDrained();
                rig.WaitReceived(sent * clients);
                return queued;
            });
            rig.EnsureHealthy();
            return ns;
        });

        rig.EnsureHealthy();
        return new MetricsCostResult(scenario, clients, size, expected, off, on);
    }

    /// <summary>
    /// The same comparison on <see cref="InMemoryBroadcast"/>: version 1 clients whose sockets take every write at once, one
    /// broadcast at a time, so each delivery is one wake and one frame written (the most metric calls a delivery can cause)
    /// and its cost does not depend on how the kernel, the clients and the scheduler happen to pace the writers.
    /// </summary>
    public static MetricsCostResult RunInMemory(int clients, int size, int rounds, long deliveriesPerBlock, TextWriter log)
    {
        var scenario = $"interleaved-memory-v1-{clients}x{size}";
        using var rig = InMemoryBroadcast.Start(clients);
        var payload = Payloads.Of(size);

        // One broadcast at a time, each drained before the next: every writer wakes once per broadcast and writes one
        // frame, whatever the scheduler does (bursts would let the writers take a varying number per wake).
        var broadcasts = (int)Math.Max(1, Math.Ceiling((double)deliveriesPerBlock / clients));
        var expected = (long)broadcasts * clients;
        var (off, on) = Interleave(scenario, rounds, log, listen =>
        {
            rig.WaitDrained();
            return Measure(listen, expected, () =>
            {
                long queued = 0;
                for (var b = 0; b < broadcasts; b++)
                {
                    queued += rig.Server.SendAll(Payloads.EventName, payload);
                    rig.WaitDrained();
                }

                return queued;
            });
        });

        if (rig.Server.ClientCount != clients)
        {
            throw new InvalidOperationException($"{clients - rig.Server.ClientCount} in-memory clients were lost");
        }

        return new MetricsCostResult(scenario, clients, size, expected, off, on);
    }

    /// <summary>
    /// Four warm-up blocks (tiered JIT of both paths, the listener's callbacks too, pools, queues at their depth), then
    /// <paramref name="rounds"/> rounds of one unlistened and one listened block back to back, in alternating order.
    /// </summary>
    private static (double[] Unlistened, double[] Listened) Interleave(string scenario, int rounds, TextWriter log, Func<bool, double> block)
    {
        for (var i = 0; i < 4; i++)
        {
            block(i % 2 == 1);
        }

        var off = new double[rounds];
        var on = new double[rounds];
        for (var round = 0; round < rounds; round++)
        {
            var listenedFirst = round % 2 == 1;
            for (var half = 0; half < 2; half++)
            {
                var listen = listenedFirst == (half == 0);
                (listen ? on : off)[round] = block(listen);
            }

            log.WriteLine($"{scenario} round {round + 1}: {off[round]:0.0} ns/delivery unlistened, {on[round]:0.0} listened, ratio {on[round] / off[round]:0.000}");
        }

        return (off, on);
    }

    /// <summary>
    /// One block from a collected state, listened to or not: the process's CPU nanoseconds per delivery over
    /// <paramref name="send"/>, which returns the deliveries it queued (they must be <paramref name="expected"/>).
    /// </summary>
    private static double Measure(bool listen, long expected, Func<long> send)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var listeners = listen ? TelemetryListeners.Attach() : null;
        try
        {
            var cpuBefore = Native.ProcessCpuNanoseconds();
            var queued = send();
            var cpu = Native.ProcessCpuNanoseconds() - cpuBefore;
            if (queued != expected)
            {
                throw new InvalidOperationException($"a block queued {queued} deliveries, not {expected}: a client was missing");
            }

            // The listened block must really have been listened to: vizhtml.events.sent alone adds every delivery.
            if (listeners is not null && listeners.Seen.CounterTotal < expected)
            {
                throw new InvalidOperationException($"the listener saw a counter total of {listeners.Seen.CounterTotal}, less than the {expected} deliveries of its block");
            }

            return (double)cpu / expected;
        }
        finally
        {
            listeners?.Dispose();
        }
    }
}
