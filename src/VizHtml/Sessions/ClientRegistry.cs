namespace VizHtml.Sessions;

/// <summary>
/// The clients a broadcast goes to. Readers take <see cref="Current"/> without a lock and walk it; connects and
/// disconnects take the lock. A connect appends into spare capacity (amortized O(1)); a disconnect publishes a copy of
/// the array without the client (O(n) pointers, a few microseconds for 10,000 clients), compacted when mostly empty.
/// A view is therefore immutable: a broadcast walking a view taken before a client left still reaches that client,
/// which then keeps the event for its return (see <see cref="BroadcastLog"/>: the log covers only broadcasts whose
/// view no longer held it).
/// </summary>
internal sealed class ClientRegistry
{
    private const int MinCapacity = 16;

    private readonly Lock _gate = new();
    private readonly Dictionary<VizClient, int> _slots = new(ReferenceEqualityComparer.Instance);
    private View _view = new([], 0);
    private VizClient[]? _snapshot;

    /// <summary>The clients now, to walk without a lock.</summary>
    public View Current => Volatile.Read(ref _view);

    /// <summary>An immutable array of the clients now; built on first use after a change, then shared.</summary>
    public VizClient[] Snapshot
    {
        get
        {
            if (Volatile.Read(ref _snapshot) is { } snapshot)
            {
                return snapshot;
            }

            lock (_gate)
            {
                return _snapshot ??= [.. _view];
            }
        }
    }

    public int Count => Volatile.Read(ref _view).Live;

    public void Add(VizClient client)
    {
        lock (_gate)
        {
            if (_slots.ContainsKey(client))
            {
                return;
            }

            var view = _view;
            var items = view.Items;
            var used = view.Used;
            if (used == items.Length)
            {
                (items, used) = Rebuild(view, Math.Max(MinCapacity, view.Live * 2));
            }

            items[used] = client;
            _slots[client] = used;
            Publish(new View(items, used + 1, view.Live + 1));
        }
    }

    public void Remove(VizClient client)
    {
        lock (_gate)
        {
            if (!_slots.Remove(client, out var slot))
            {
                return;
            }

            // Never in place: a view already taken (a broadcast walking it) must still see the client.
            var view = _view;
            var copy = (VizClient?[])view.Items.Clone();
            copy[slot] = null;
            var without = new View(copy, view.Used, view.Live - 1);
            var live = without.Live;
            if (view.Used - live > MinCapacity && view.Used - live > live)
            {
                // Mostly empty slots: a fresh, compact array.
                var (items, used) = Rebuild(without, Math.Max(MinCapacity, live * 2));
                Publish(new View(items, used, live));
            }
            else
            {
                Publish(without);
            }
        }
    }

    private (VizClient?[] Items, int Used) Rebuild(View view, int capacity)
    {
        var items = new VizClient?[capacity];
        var used = 0;
        foreach (var client in view)
        {
            items[used] = client;
            _slots[client] = used++;
        }

        return (items, used);
    }

    private void Publish(View view)
    {
        Volatile.Write(ref _view, view);
        _snapshot = null;
    }

    /// <summary>A view of the clients: slots <c>[0, Used)</c> of an array that later views may extend at the end, never change.</summary>
    internal sealed class View(VizClient?[] items, int used, int live = 0)
    {
        public VizClient?[] Items { get; } = items;

        public int Used { get; } = used;

        public int Live { get; } = live;

        public Enumerator GetEnumerator() => new(this);

        /// <summary>Walks the view's clients, skipping slots of clients that left.</summary>
        public struct Enumerator(View view)
        {
            private int _index = -1;
            private VizClient? _current;

            public readonly VizClient Current => _current!;

            public bool MoveNext()
            {
                while (++_index < view.Used)
                {
                    _current = Volatile.Read(ref view.Items[_index]);
                    if (_current is not null)
                    {
                        return true;
                    }
                }

                return false;
            }
        }
    }
}
