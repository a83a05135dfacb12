using BenchmarkDotNet.Attributes;
using VizHtml.Protocol;

namespace VizHtml.Micro;

/// <summary>The once-per-broadcast cost: one envelope written to UTF-8 JSON, whatever the number of recipients.</summary>
[MemoryDiagnoser]
public class SerializeBenchmarks
{
    private EnvelopeSerializer _serializer = null!;
    private string _payload = string.Empty;

    [Params(64, 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _serializer = Payloads.Serializer();
        _payload = Payloads.Of(Size);
    }

    [Benchmark]
    public byte[] Serialize() => _serializer.Serialize(Payloads.EventName, _payload);
}
