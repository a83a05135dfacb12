namespace VizHtml.Connections;

/// <summary>
/// The connected clients as a copy-on-write array: a broadcast or a client-list snapshot reads it without a
/// lock; only connects and disconnects take the lock.
/// </summary>
internal sealed class ConnectionRegistry
{
    private readonly Lock _gate = new();
    private VizClient[] _clients = [];

    /// <summary>An immutable snapshot; safe to hand to callers.</summary>
    public VizClient[] Snapshot => Volatile.Read(ref _clients);

    public int Count => Snapshot.Length;

    public void Add(VizClient client)
    {
        lock (_gate)
        {
            _clients = [.. _clients, client];
        }
    }

    public void Remove(VizClient client)
    {
        lock (_gate)
        {
            var index = Array.IndexOf(_clients, client);
            if (index >= 0)
            {
                _clients = [.. _clients.AsSpan(0, index), .. _clients.AsSpan(index + 1)];
            }
        }
    }
}
