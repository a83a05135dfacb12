namespace VizHtml.Connections;

/// <summary>
/// A token bucket for one client's inbound messages: <c>rate</c> per second on average, bursts up to twice that.
/// Dropped messages build up an excess that drains at the same rate; an excess of ten seconds' worth is abuse.
/// Used only by its connection's read loop, so it needs no locking.
/// </summary>
internal sealed class RateLimiter(int ratePerSecond, TimeProvider time)
{
    private readonly double _burst = 2.0 * ratePerSecond;
    private double _tokens = 2.0 * ratePerSecond;
    private double _excess;
    private long _last = time.GetTimestamp();
    private long _lastWarning = long.MinValue;

    public enum Verdict
    {
        Accept,
        Drop,
        DropAndWarn,
        Abuse,
    }

    /// <summary>
    /// Takes a token for a client whose events must not be dropped (numbered, version 2): returns how long to wait before
    /// reading on, so a flood is slowed down by TCP backpressure instead of losing events.
    /// </summary>
    public TimeSpan Reserve()
    {
        var now = time.GetTimestamp();
        var elapsed = time.GetElapsedTime(_last, now).TotalSeconds;
        _last = now;
        _tokens = Math.Min(_burst, _tokens + (elapsed * ratePerSecond)) - 1;
        return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / ratePerSecond);
    }

    public Verdict Take()
    {
        var now = time.GetTimestamp();
        var elapsed = time.GetElapsedTime(_last, now).TotalSeconds;
        _last = now;
        _tokens = Math.Min(_burst, _tokens + (elapsed * ratePerSecond));
        _excess = Math.Max(0, _excess - (elapsed * ratePerSecond));
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return Verdict.Accept;
        }

        _excess += 1;
        if (_excess > 10.0 * ratePerSecond)
        {
            return Verdict.Abuse;
        }

        // One warning a second at most: the error events must not become a flood of their own.
        if (_lastWarning == long.MinValue || time.GetElapsedTime(_lastWarning, now) >= TimeSpan.FromSeconds(1))
        {
            _lastWarning = now;
            return Verdict.DropAndWarn;
        }

        return Verdict.Drop;
    }
}
