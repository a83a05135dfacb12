using BenchmarkDotNet.Attributes;

namespace VizHtml.Micro;

/// <summary>
/// <see cref="VizHtmlServer.SendAll(string, object?)"/> to N connected loopback clients: one operation is one broadcast of
/// a 64 B payload. Before each iteration every client's send queue is drained, and an iteration sends fewer broadcasts
/// than the queue bound (1,024), so no client can be disconnected as a slow consumer; one that is lost anyway fails the
/// benchmark.
/// </summary>
/// <remarks>
/// BenchmarkDotNet's Allocated column is <c>GC.GetTotalAllocatedBytes(precise: true)</c> on .NET 6+: every thread of
/// the process, so here it includes the connections' write loops and Kestrel. The broadcast path's own figure is the
/// calling thread's, read with <c>GC.GetAllocatedBytesForCurrentThread()</c> right before the first and right after the
/// last SendAll of each iteration (so nothing of the benchmark engine is inside) and shown in the <see cref="CallerAllocatedColumn"/>.
/// </remarks>
[MemoryDiagnoser]
public abstract class SendAllBenchmarks
{
    private BroadcastRig _rig = null!;
    private string _payload = string.Empty;
    private long _queued;
    private long _calls;
    private long _allocatedAtStart;
    private long _allocatedAtEnd;
    private readonly List<double> _callerBytesPerOp = [];

    [Params("v1", "v2")]
    public string Protocol { get; set; } = "v1";

    public abstract int Clients { get; }

    /// <summary>SendAll calls per iteration: the class's InvocationCount.</summary>
    protected abstract int Burst { get; }

    public string Scenario => $"micro-sendall-{Protocol}-N{Clients}";

    [GlobalSetup]
    public void Setup()
    {
        _payload = Payloads.Of(64);
        _rig = BroadcastRig.Start(Clients, Protocol == "v2");
    }

    [IterationSetup]
    public void BeforeIteration()
    {
        _rig.WaitDrained();
        _rig.EnsureHealthy();
        _queued = 0;
        _calls = 0;
    }

    [Benchmark]
    public void SendAll()
    {
        if (_calls == 0)
        {
            _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        }

        _queued += _rig.Server.SendAll(Payloads.EventName, _payload);
        if (++_calls == Burst)
        {
            _allocatedAtEnd = GC.GetAllocatedBytesForCurrentThread();
        }
    }

    [IterationCleanup]
    public void AfterIteration()
    {
        // The one-call jitting iteration says nothing about the steady state.
        if (_calls == Burst)
        {
            _callerBytesPerOp.Add((double)(_allocatedAtEnd - _allocatedAtStart) / Burst);
        }

        if (_queued != _calls * Clients)
        {
            _rig.EnsureHealthy();
            throw new InvalidOperationException($"{Scenario}: {_calls} broadcasts were queued {_queued} times, expected {_calls * Clients}");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        try
        {
            _rig.WaitDrained();
            _rig.EnsureHealthy();
            CallerAllocatedColumn.Record(Scenario, _callerBytesPerOp);
        }
        finally
        {
            _rig.Dispose();
        }
    }
}

[InvocationCount(Bursts.N10, 1)]
public class SendAllN10 : SendAllBenchmarks
{
    public override int Clients => 10;

    protected override int Burst => Bursts.N10;
}

[InvocationCount(Bursts.N100, 1)]
public class SendAllN100 : SendAllBenchmarks
{
    public override int Clients => 100;

    protected override int Burst => Bursts.N100;
}

[InvocationCount(Bursts.N1000, 1)]
public class SendAllN1000 : SendAllBenchmarks
{
    public override int Clients => 1000;

    protected override int Burst => Bursts.N1000;
}

/// <summary>
/// Broadcasts per burst (a benchmark iteration, a probe burst): each burst starts from empty send queues and stays under
/// the 1,024-message queue bound; at N = 1000 a burst is already 128,000 deliveries to drain.
/// </summary>
internal static class Bursts
{
    public const int N10 = 768;
    public const int N100 = 512;
    public const int N1000 = 128;

    public static int Of(int clients) => clients switch
    {
        <= 10 => N10,
        <= 100 => N100,
        _ => N1000,
    };
}
