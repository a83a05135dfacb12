namespace VizHtml.Http;

/// <summary>
/// The form bytes the server holds at once (in memory or in temporary files), in total and per IP address. A form takes
/// its share before its body is read and gives it back when its handlers have finished (or it failed): so neither
/// concurrent uploads nor forms queued behind a slow handler can hold more than the caps.
/// </summary>
internal sealed class FormBudget(long maxTotal, long maxPerAddress)
{
    /// <summary>The <c>Retry-After</c> a refused form gets, in seconds: long enough for an upload ahead of it to finish.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>
    /// The least a form counts, however short: what reading it may hold in memory (its files up to
    /// <see cref="FormSpoolFolder.MemoryThreshold"/>, and a read buffer of that size). So small forms stalled mid-body
    /// cannot pile up past the caps either.
    /// </summary>
    public const long MinimumShare = 2 * FormSpoolFolder.MemoryThreshold;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _byAddress = new(StringComparer.Ordinal);
    private long _total;

    public readonly record struct Refusal(int StatusCode, string Message);

    /// <summary>The bytes held now, for tests and diagnostics.</summary>
    public long Total
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> for a form from <paramref name="address"/>. A form larger than a cap is still taken when
    /// nothing else is held under that cap (as a large event goes to a client with an empty queue), so a form within
    /// <see cref="VizHtmlOptions.MaxFormBytes"/> can always get through.
    /// </summary>
    public bool TryAcquire(string address, long bytes, out Refusal refusal)
    {
        lock (_gate)
        {
            var ofAddress = _byAddress.GetValueOrDefault(address);
            if (ofAddress > 0 && ofAddress + bytes > maxPerAddress)
            {
                refusal = new(429, $"This address is already sending or has queued the most form data the server takes from one address ({maxPerAddress} bytes); try again shortly.");
                return false;
            }

            if (_total > 0 && _total + bytes > maxTotal)
            {
                refusal = new(503, $"The server is already receiving or handling the most form data it holds at once ({maxTotal} bytes); try again shortly.");
                return false;
            }

            _byAddress[address] = ofAddress + bytes;
            _total += bytes;
            refusal = default;
            return true;
        }
    }

    public void Release(string address, long bytes)
    {
        lock (_gate)
        {
            _total -= bytes;

            // Remove the entry when it drops to zero so the table does not grow with every address ever seen.
            var left = _byAddress.GetValueOrDefault(address) - bytes;
            if (left > 0)
            {
                _byAddress[address] = left;
            }
            else
            {
                _byAddress.Remove(address);
            }
        }
    }
}
