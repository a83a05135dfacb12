namespace VizHtml.Sessions;

/// <summary>
/// The events sent to one client that it has not acknowledged yet, in sequence order, bounded by count, bytes and age.
/// What falls out of the bounds before it is acknowledged can no longer be replayed: a resume from before it is not recovered.
/// Not thread-safe: its <see cref="Session"/> locks around it. What it holds is counted in the server-wide
/// <see cref="ReplayBudget"/>.
/// </summary>
internal sealed class ReplayBuffer(int maxCount, long maxBytes, TimeSpan maxAge, TimeProvider time, ReplayBudget budget)
{
    private readonly Queue<Entry> _entries = new();
    private long _bytes;

    /// <summary>The highest sequence number that was dropped unacknowledged (0 when none was).</summary>
    public long LostThrough { get; private set; }

    /// <summary>The highest sequence number the client has acknowledged.</summary>
    public long Acknowledged { get; private set; }

    public int Count => _entries.Count;

    public long Bytes => _bytes;

    public void Append(long seq, ReadOnlyMemory<byte> payload)
    {
        _entries.Enqueue(new Entry(seq, payload, time.GetTimestamp()));
        _bytes += payload.Length;
        budget.Add(payload.Length);
        while (_entries.Count > maxCount || _bytes > maxBytes)
        {
            Drop();
        }
    }

    /// <summary>Forgets everything up to and including <paramref name="seq"/> (cumulative acknowledgement).</summary>
    public void Acknowledge(long seq)
    {
        if (seq <= Acknowledged)
        {
            return;
        }

        Acknowledged = seq;
        var freed = 0L;
        while (_entries.TryPeek(out var head) && head.Seq <= seq)
        {
            _entries.Dequeue();
            freed += head.Payload.Length;
        }

        // One update of the server-wide count per acknowledgement, not one per event (every session shares it).
        _bytes -= freed;
        budget.Add(-freed);
    }

    /// <summary>Marks everything up to <paramref name="seq"/> as no longer replayable (events the client missed are gone).</summary>
    public void MarkLost(long seq) => LostThrough = Math.Max(LostThrough, seq);

    /// <summary>Forgets everything (the session ended): its bytes go back to the budget.</summary>
    public void Clear()
    {
        budget.Add(-_bytes);
        _bytes = 0;
        _entries.Clear();
        _entries.TrimExcess();
    }

    /// <summary>Drops entries older than the age bound.</summary>
    public void Expire()
    {
        var now = time.GetTimestamp();
        while (_entries.TryPeek(out var head) && time.GetElapsedTime(head.Timestamp, now) > maxAge)
        {
            Drop();
        }
    }

    /// <summary>Whether a client that has processed everything up to <paramref name="lastSeq"/> can be brought up to date.</summary>
    public bool CanReplayFrom(long lastSeq, long lastSent)
    {
        Expire();
        // What was acknowledged is gone from the buffer too: a client claiming less than it acknowledged cannot be brought up to date.
        return lastSeq >= Math.Max(LostThrough, Acknowledged) && lastSeq <= lastSent;
    }

    /// <summary>The entries after <paramref name="lastSeq"/>, oldest first.</summary>
    public IEnumerable<(long Seq, ReadOnlyMemory<byte> Payload)> After(long lastSeq) =>
        _entries.Where(e => e.Seq > lastSeq).Select(e => (e.Seq, e.Payload));

    private void Drop()
    {
        var dropped = _entries.Dequeue();
        _bytes -= dropped.Payload.Length;
        budget.Add(-dropped.Payload.Length);
        if (dropped.Seq > Acknowledged)
        {
            LostThrough = Math.Max(LostThrough, dropped.Seq);
        }
    }

    private readonly record struct Entry(long Seq, ReadOnlyMemory<byte> Payload, long Timestamp);
}

/// <summary>The bytes every client's replay buffer holds together, against the server-wide bound.</summary>
internal sealed class ReplayBudget(long maxBytes)
{
    private long _bytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Whether the replay buffers hold more than the bound: the clients away longest are forgotten first.</summary>
    public bool Exceeded => Interlocked.Read(ref _bytes) > maxBytes;

    public void Add(long bytes) => Interlocked.Add(ref _bytes, bytes);
}
