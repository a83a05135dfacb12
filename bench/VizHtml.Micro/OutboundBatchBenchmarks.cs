using BenchmarkDotNet.Attributes;
using VizHtml.Connections;

namespace VizHtml.Micro;

/// <summary>
/// A v2 writer's drain: 100 numbered 64 B messages added to one batch, the frame taken, the batch completed. The pooled
/// buffer goes back on Complete, so after warm-up an operation should allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class OutboundBatchBenchmarks
{
    public const int Messages = 100;

    private readonly OutboundBatch _batch = new();
    private byte[] _payload = [];
    private long _seq;

    [GlobalSetup]
    public void Setup() => _payload = Payloads.Serializer().Serialize(Payloads.EventName, Payloads.Of(64));

    [Benchmark]
    public int AddFrameComplete()
    {
        for (var i = 0; i < Messages; i++)
        {
            if (!_batch.TryAdd(++_seq, _payload, delivered: null))
            {
                throw new InvalidOperationException("100 small messages must fit one batch");
            }
        }

        var length = _batch.Frame.Length;
        _batch.Complete();
        return length;
    }
}
