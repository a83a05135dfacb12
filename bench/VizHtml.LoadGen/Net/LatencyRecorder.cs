namespace VizHtml.LoadGen.Net;

/// <summary>Latency samples in ns, kept whole (a few hundred thousand per window) so percentiles are exact.</summary>
internal sealed class LatencyRecorder
{
    private long[] _samples = new long[64 * 1024];

    public int Count { get; private set; }

    public void Add(long ns)
    {
        if (Count == _samples.Length)
        {
            Array.Resize(ref _samples, _samples.Length * 2);
        }

        _samples[Count++] = ns;
    }

    public void Clear() => Count = 0;

    /// <summary>Percentile (0–100) in µs by nearest rank; NaN when there are no samples.</summary>
    public double PercentileMicroseconds(double percentile)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        var sorted = _samples.AsSpan(0, Count);
        sorted.Sort();
        var rank = (int)Math.Ceiling(percentile / 100 * Count) - 1;
        return sorted[Math.Clamp(rank, 0, Count - 1)] / 1000.0;
    }
}
