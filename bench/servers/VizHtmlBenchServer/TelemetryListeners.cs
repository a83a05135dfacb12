using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace VizHtml.BenchServers;

/// <summary>
/// What a process that watches VizHtml attaches (<c>VIZHTML_METRICS=listen</c>, the <c>vizhtml-metrics</c> server): a
/// <see cref="MeterListener"/> enabled on every instrument of the <c>VizHtml</c> meter, summing counters and counting
/// histogram values as an exporter's aggregation would, collecting the observable instruments once a second (the
/// interval of <c>dotnet-counters</c>), and an <see cref="ActivityListener"/> that records every <c>VizHtml</c> span.
/// <c>VIZHTML_METRICS_SKIP=&lt;instrument&gt;</c> leaves one instrument out: which one a cost comes from.
/// </summary>
internal sealed class TelemetryListeners : IDisposable
{
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _spans;
    private readonly Timer _collect;
    private long _sum;
    private long _values;
    private long _stoppedSpans;

    private TelemetryListeners()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "VizHtml" && instrument.Name != Environment.GetEnvironmentVariable("VIZHTML_METRICS_SKIP"))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _sum, value));
        _meters.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _values));
        _meters.Start();
        _spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "VizHtml",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _ => Interlocked.Increment(ref _stoppedSpans),
        };
        ActivitySource.AddActivityListener(_spans);
        _collect = new Timer(_ => _meters.RecordObservableInstruments(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Attaches the listeners now (bench/VizHtml.Micro's interleaved comparison); <see cref="Dispose"/> detaches them.</summary>
    public static TelemetryListeners Attach() => new() { Quiet = true };

    public static TelemetryListeners? FromEnvironment() =>
        Environment.GetEnvironmentVariable("VIZHTML_METRICS") switch
        {
            null or "" or "off" => null,
            "listen" => new TelemetryListeners(),
            var other => throw new ArgumentException($"VIZHTML_METRICS must be listen or off, not '{other}'"),
        };

    /// <summary>What the listeners saw: counter total, histogram values, spans.</summary>
    public (long CounterTotal, long HistogramValues, long Spans) Seen => (Interlocked.Read(ref _sum), Interlocked.Read(ref _values), Interlocked.Read(ref _stoppedSpans));

    public bool Quiet { get; init; }

    public void Dispose()
    {
        _collect.Dispose();
        _meters.Dispose();
        _spans.Dispose();
        if (!Quiet)
        {
            Console.Error.WriteLine($"VizHtml telemetry seen: counter total {Interlocked.Read(ref _sum)}, histogram values {Interlocked.Read(ref _values)}, spans {Interlocked.Read(ref _stoppedSpans)}");
        }
    }
}
