namespace VizHtml.Connections;

/// <summary>
/// What every connection of one server may spend on messages still arriving: one memory budget shared by all of them, a
/// share of it per IP address, and per message a cap on frames and a time limit. Only buffers larger than a read loop's
/// first one (4 KiB, which the connection caps bound) are charged, so a message that fits in one small read costs nothing
/// here. Thread-safe.
/// </summary>
internal sealed class MessageAssemblyLimits
{
    private readonly Dictionary<string, AddressShare> _shares = new(StringComparer.Ordinal);
    private long _usedBytes;

    public MessageAssemblyLimits(long maxBytes, long maxBytesPerAddress, int maxFrames, TimeSpan timeout)
    {
        MaxBytes = maxBytes;
        MaxBytesPerAddress = maxBytesPerAddress;
        MaxFrames = maxFrames;
        Timeout = timeout;
    }

    /// <summary>No limit: for connections made outside a server (unit tests).</summary>
    public static MessageAssemblyLimits Unlimited { get; } = new(long.MaxValue, long.MaxValue, int.MaxValue, System.Threading.Timeout.InfiniteTimeSpan);

    public long MaxBytes { get; }

    public long MaxBytesPerAddress { get; }

    public int MaxFrames { get; }

    /// <summary>How long a message may take once it has outgrown its first read; infinite for no limit.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Bytes charged now, across all connections.</summary>
    public long UsedBytes => Interlocked.Read(ref _usedBytes);

    /// <summary>The share of <paramref name="address"/>; every <see cref="Join"/> is matched by one <see cref="Leave"/>.</summary>
    public AddressShare Join(string address)
    {
        lock (_shares)
        {
            if (!_shares.TryGetValue(address, out var share))
            {
                share = new AddressShare(address);
                _shares.Add(address, share);
            }

            share.Members++;
            return share;
        }
    }

    public void Leave(AddressShare share)
    {
        lock (_shares)
        {
            if (--share.Members == 0)
            {
                _shares.Remove(share.Address);
            }
        }
    }

    /// <summary>Charges <paramref name="bytes"/> to the address's share and to the server, or to neither and says which had no room.</summary>
    public Refusal TryCharge(AddressShare share, long bytes)
    {
        if (Interlocked.Add(ref share.UsedBytes, bytes) > MaxBytesPerAddress)
        {
            Interlocked.Add(ref share.UsedBytes, -bytes);
            return Refusal.AddressShareFull;
        }

        if (Interlocked.Add(ref _usedBytes, bytes) > MaxBytes)
        {
            Interlocked.Add(ref _usedBytes, -bytes);
            Interlocked.Add(ref share.UsedBytes, -bytes);
            return Refusal.BudgetFull;
        }

        return Refusal.None;
    }

    public void Release(AddressShare share, long bytes)
    {
        Interlocked.Add(ref share.UsedBytes, -bytes);
        Interlocked.Add(ref _usedBytes, -bytes);
    }

    /// <summary>The connections of one IP address and the bytes they have charged.</summary>
    internal sealed class AddressShare(string address)
    {
        public long UsedBytes;

        public string Address { get; } = address;

        /// <summary>Connections that joined and have not left; changed under the owner's lock.</summary>
        public int Members { get; set; }
    }
}

/// <summary>Why <see cref="MessageAssemblyLimits.TryCharge"/> refused.</summary>
internal enum Refusal
{
    None,

    /// <summary>The messages of the connection's address already hold their share.</summary>
    AddressShareFull,

    /// <summary>The messages of all connections together already hold the whole budget.</summary>
    BudgetFull,
}
