namespace VizHtml.Sessions;

/// <summary>
/// The broadcasts that clients who are away have missed, kept once for all of them: a broadcast costs an away session
/// nothing (it is not visited), and a session that comes back (or is sent to while away) takes the broadcasts after its
/// <see cref="Position"/> from here into its own replay buffer, numbered in its own sequence. Reliable broadcasts are
/// kept in order, bounded like one client's replay buffer (count, bytes, age); for latest-class events only the newest
/// value of each name is kept. Volatile broadcasts are not kept: they are lost for whoever is away. Thread-safe.
/// </summary>
internal sealed class BroadcastLog(int maxCount, long maxBytes, TimeSpan maxAge, TimeProvider time)
{
    private readonly Lock _gate = new();
    private Entry[] _ring = [];
    private int _head;
    private int _count;
    private readonly Dictionary<string, (ReadOnlyMemory<byte> Payload, long Position)> _latest = new(StringComparer.Ordinal);
    private long _bytes;
    private long _last;
    private long _reliable;

    /// <summary>Where the log is now: what a client that goes away at this moment has seen.</summary>
    public Mark Position
    {
        get
        {
            lock (_gate)
            {
                return new Mark(_last, _reliable);
            }
        }
    }

    /// <summary>Bytes of reliable payloads kept (shared with the connected clients' queues, not copies).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Keeps a broadcast for the clients that are away; returns its position (volatile ones are not kept).</summary>
    public long Append(ReadOnlyMemory<byte> payload, VizDelivery delivery, string eventName)
    {
        lock (_gate)
        {
            var position = ++_last;
            switch (delivery)
            {
                case VizDelivery.Reliable:
                    if (_count == _ring.Length)
                    {
                        Grow();
                    }

                    _ring[(_head + _count++) % _ring.Length] = new Entry(position, ++_reliable, payload, time.GetTimestamp());
                    _bytes += payload.Length;
                    while (_count > maxCount || _bytes > maxBytes)
                    {
                        Drop();
                    }

                    break;
                case VizDelivery.Latest:
                    _latest[eventName] = (payload, position);
                    break;
            }

            return position;
        }
    }

    /// <summary>
    /// Hands what was broadcast after <paramref name="after"/> to <paramref name="target"/>, in order: first how many
    /// reliable broadcasts after it are no longer kept (too many, too large or too old), then each reliable one still
    /// kept, then the newest value of each latest-class event. Returns the mark it read up to.
    /// </summary>
    public Mark CopyAfter<TTarget>(Mark after, ref TTarget target)
        where TTarget : struct, ITarget
    {
        lock (_gate)
        {
            ExpireOld();

            // Reliable entries are numbered 1, 2, 3... as they are appended and dropped oldest first: the ones missed and
            // no longer kept are those between the mark's and the first kept.
            var firstKept = _count > 0 ? At(0).Reliable : _reliable + 1;
            if (firstKept - 1 > after.Reliable)
            {
                target.Lost(firstKept - 1 - after.Reliable);
            }

            // Positions rise along the ring: find the first one after 'after', then copy from there.
            int low = 0, high = _count;
            while (low < high)
            {
                var mid = (low + high) >>> 1;
                if (At(mid).Position > after.Position)
                {
                    high = mid;
                }
                else
                {
                    low = mid + 1;
                }
            }

            for (var i = low; i < _count; i++)
            {
                target.Reliable(At(i).Payload);
            }

            foreach (var (name, (payload, position)) in _latest)
            {
                if (position > after.Position)
                {
                    target.Latest(name, payload);
                }
            }

            return new Mark(_last, _reliable);
        }
    }

    private void ExpireOld()
    {
        var now = time.GetTimestamp();
        while (_count > 0 && time.GetElapsedTime(At(0).Timestamp, now) > maxAge)
        {
            Drop();
        }
    }

    private ref Entry At(int index) => ref _ring[(_head + index) % _ring.Length];

    private void Drop()
    {
        ref var dropped = ref At(0);
        _bytes -= dropped.Payload.Length;
        dropped = default;
        _head = (_head + 1) % _ring.Length;
        _count--;
    }

    private void Grow()
    {
        var ring = new Entry[Math.Max(16, _ring.Length * 2)];
        for (var i = 0; i < _count; i++)
        {
            ring[i] = At(i);
        }

        _ring = ring;
        _head = 0;
    }

    /// <summary>Receives what a session missed while away (a struct, so the copy allocates no closure).</summary>
    public interface ITarget
    {
        /// <summary>How many reliable broadcasts it missed are no longer kept: it cannot be brought up to date.</summary>
        void Lost(long count);

        void Reliable(ReadOnlyMemory<byte> payload);

        void Latest(string eventName, ReadOnlyMemory<byte> payload);
    }

    /// <summary>A point in the log: how many broadcasts had been appended, and how many of them were reliable.</summary>
    public readonly record struct Mark(long Position, long Reliable);

    private readonly record struct Entry(long Position, long Reliable, ReadOnlyMemory<byte> Payload, long Timestamp);
}
