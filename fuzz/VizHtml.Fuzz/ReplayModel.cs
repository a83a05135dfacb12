namespace VizHtml.Fuzz;

// Shared with test/VizHtml.Tests (linked into that project), so the fuzz target and the regression tests check the
// replay buffer against one and the same model.

/// <summary>What a replay buffer should hold, written as plainly as possible.</summary>
internal sealed class ReplayModel(int maxCount, long maxBytes, long maxAgeTicks)
{
    private readonly List<(long Seq, int Length, long Timestamp)> _kept = [];
    private readonly HashSet<long> _lost = [];

    public int Count => _kept.Count;

    public long Bytes => _kept.Sum(e => (long)e.Length);

    public long Acknowledged { get; private set; }

    public long LostThrough => _lost.Count == 0 ? 0 : _lost.Max();

    /// <summary>Payload bytes that identify their event, so a mixed-up replay is caught.</summary>
    public static byte[] PayloadFor(long seq, int length)
    {
        var payload = new byte[length];
        for (var i = 0; i < length; i++)
        {
            payload[i] = unchecked((byte)((seq * 131) + (i * 7)));
        }

        return payload;
    }

    public void Append(long seq, int length, long now)
    {
        _kept.Add((seq, length, now));
        while (_kept.Count > maxCount || Bytes > maxBytes)
        {
            DropOldest();
        }
    }

    public void Acknowledge(long seq)
    {
        if (seq <= Acknowledged)
        {
            return;
        }

        Acknowledged = seq;
        _kept.RemoveAll(e => e.Seq <= seq);
    }

    public void Expire(long now)
    {
        // Frequency is TimeSpan.TicksPerSecond, so a timestamp difference is a tick count.
        while (_kept.Count > 0 && now - _kept[0].Timestamp > maxAgeTicks)
        {
            DropOldest();
        }
    }

    public bool CanReplayFrom(long lastSeq, long lastSent, long now)
    {
        Expire(now);
        if (lastSeq > lastSent)
        {
            return false;
        }

        // docs/protocol.md: "recovered: true means every reliable event after lastSeq is replayed". So every seq in
        // (lastSeq, lastSent] must still be kept; an acknowledged event counts only when lastSeq covers it (and then it
        // is not in the range at all).
        var first = Math.Max(lastSeq, 0) + 1;
        if (lastSent - first + 1 > _kept.Count)
        {
            return false;
        }

        var kept = _kept.Select(e => e.Seq).ToHashSet();
        for (var seq = first; seq <= lastSent; seq++)
        {
            if (!kept.Contains(seq))
            {
                return false;
            }
        }

        return true;
    }

    public List<(long Seq, int Length)> After(long lastSeq) => _kept.Where(e => e.Seq > lastSeq).Select(e => (e.Seq, e.Length)).ToList();

    public string Describe() =>
        $"model keeps [{string.Join(",", _kept.Select(e => e.Seq))}] ({Bytes} bytes), acknowledged {Acknowledged}, lost [{string.Join(",", _lost.Order())}]";

    private void DropOldest()
    {
        var oldest = _kept[0];
        _kept.RemoveAt(0);
        if (oldest.Seq > Acknowledged)
        {
            _lost.Add(oldest.Seq);
        }
    }
}

/// <summary>A clock that moves only when told to; one tick per 100 ns, as <see cref="TimeSpan"/>.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _now = 1_000_000_000;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _now;

    public void Advance(TimeSpan by) => _now += by.Ticks;
}
