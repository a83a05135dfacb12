using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace VizHtml.Micro;

/// <summary>
/// Which types the process allocates, and on which thread: the runtime's GC AllocationTick event, raised about once
/// per 100 KB allocated and naming the type of the allocation that crossed the mark, so the bytes it stands for are
/// shared out among types in proportion to what they allocate. Used by <c>--trace-allocations</c> to say where the bytes
/// of the probe's figures come from.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly ConcurrentDictionary<(bool Caller, string Type), (long Samples, long Bytes)> _samples = new();
    private long _callerThread = -2;
    private volatile bool _recording;

    /// <summary>Starts attributing samples, with <paramref name="callerOsThreadId"/> as the thread calling SendAll.</summary>
    public void Start(long callerOsThreadId)
    {
        _samples.Clear();
        _callerThread = callerOsThreadId;
        _recording = true;
    }

    public void Stop() => _recording = false;

    /// <summary>Prints the types that the most bytes were sampled for.</summary>
    public void Print(TextWriter log, string title, int top = 25)
    {
        log.WriteLine($"// {title}: sampled allocations (thread, samples, bytes the samples stand for, type)");
        foreach (var (caller, type, samples, bytes) in Results.Take(top))
        {
            log.WriteLine($"   {(caller ? "calling thread" : "other threads "),-14} {samples,5} {bytes,12:N0}  {type}");
        }
    }

    public IReadOnlyList<(bool Caller, string Type, long Samples, long Bytes)> Results =>
        [.. _samples.Select(s => (s.Key.Caller, s.Key.Type, s.Value.Samples, s.Value.Bytes)).OrderByDescending(s => s.Bytes)];

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null)
        {
            return;
        }

        var type = "?";
        long bytes = 0;
        for (var i = 0; i < eventData.PayloadNames!.Count; i++)
        {
            switch (eventData.PayloadNames[i])
            {
                case "TypeName":
                    type = eventData.Payload[i] as string ?? "?";
                    break;
                case "AllocationAmount64":
                    bytes = Convert.ToInt64(eventData.Payload[i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "AllocationAmount" when bytes == 0:
                    bytes = Convert.ToInt64(eventData.Payload[i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
            }
        }

        var key = (eventData.OSThreadId == _callerThread, type);
        _samples.AddOrUpdate(key, (1, bytes), (_, s) => (s.Samples + 1, s.Bytes + bytes));
    }
}
