using System.Collections.Concurrent;


namespace VizHtml.Http;

/// <summary>Caps on open sockets, in total and per IP address, taken before the upgrade.</summary>
internal sealed class ConnectionLimits(int maxTotal, int maxPerAddress)
{
    private readonly ConcurrentDictionary<string, int> _byAddress = new(StringComparer.Ordinal);
    private int _total;
    private int _maxTotal = maxTotal;

    /// <summary>The most sockets in total: the option, or fewer when the host has fewer file descriptors to spare.</summary>
    public int MaxTotal
    {
        get => Volatile.Read(ref _maxTotal);
        set => Volatile.Write(ref _maxTotal, value);
    }

    public readonly record struct Refusal(int StatusCode, string Message);

    public bool TryAcquire(string address, out Refusal refusal)
    {
        var max = MaxTotal;
        if (Interlocked.Increment(ref _total) > max)
        {
            Interlocked.Decrement(ref _total);
            refusal = new(503, $"The server holds its maximum of {max} connections.");
            return false;
        }

        if (_byAddress.AddOrUpdate(address, 1, static (_, n) => n + 1) > maxPerAddress)
        {
            Release(address);
            refusal = new(429, $"This address already holds the maximum of {maxPerAddress} connections.");
            return false;
        }

        refusal = default;
        return true;
    }

    public void Release(string address)
    {
        Interlocked.Decrement(ref _total);

        // Remove the entry when it drops to zero so the table does not grow with every address ever seen.
        while (_byAddress.TryGetValue(address, out var n))
        {
            if (n <= 1 ? _byAddress.TryRemove(new KeyValuePair<string, int>(address, n)) : _byAddress.TryUpdate(address, n - 1, n))
            {
                return;
            }
        }
    }
}
