using System.Collections.Concurrent;

namespace VizHtml.Sessions;

/// <summary>
/// The sessions of this process: a concurrent dictionary by token, and the away ones in the order they went away (in
/// all, and per address) under a lock, so the oldest is found in O(1) and expiry stops at the first that has not expired.
/// </summary>
/// <param name="maxAway">How many sessions may be away at once.</param>
/// <param name="maxAwayPerAddress">How many sessions opened from one address may be away at once.</param>
internal sealed class InMemorySessionStore(int maxAway, int maxAwayPerAddress) : ISessionStore
{
    private readonly ConcurrentDictionary<string, Session> _byToken = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly LinkedList<Session> _away = new();
    private readonly Dictionary<string, LinkedList<Session>> _awayByAddress = new(StringComparer.Ordinal);
    private readonly Dictionary<Session, (LinkedListNode<Session> All, LinkedListNode<Session> Address)> _nodes = new(ReferenceEqualityComparer.Instance);

    public int AwayCount
    {
        get
        {
            lock (_gate)
            {
                return _away.Count;
            }
        }
    }

    public Session? OldestAway(string? address = null)
    {
        lock (_gate)
        {
            return address is null ? _away.First?.Value
                : _awayByAddress.TryGetValue(address, out var list) ? list.First?.Value : null;
        }
    }

    public void Add(Session session) => _byToken[session.Token!] = session;

    public bool TryTake(string token, out Session session) => _byToken.TryRemove(token, out session!);

    public IReadOnlyList<Session> SetAway(Session session, bool away)
    {
        lock (_gate)
        {
            Unlink(session);
            if (!away)
            {
                return [];
            }

            var address = session.Client.Address;
            if (!_awayByAddress.TryGetValue(address, out var list))
            {
                _awayByAddress[address] = list = new LinkedList<Session>();
            }

            _nodes[session] = (_away.AddLast(session), list.AddLast(session));
            List<Session>? over = null;
            while (list.Count > maxAwayPerAddress)
            {
                (over ??= []).Add(list.First!.Value);
                Unlink(list.First!.Value);
            }

            while (_away.Count > maxAway)
            {
                (over ??= []).Add(_away.First!.Value);
                Unlink(_away.First!.Value);
            }

            return over ?? (IReadOnlyList<Session>)[];
        }
    }

    public void Remove(Session session)
    {
        if (session.Token is { } token)
        {
            _byToken.TryRemove(new KeyValuePair<string, Session>(token, session));
        }

        lock (_gate)
        {
            Unlink(session);
        }
    }

    public IReadOnlyList<Session> Clear()
    {
        lock (_gate)
        {
            var all = _byToken.Values.Concat(_away).Distinct().ToArray();
            _byToken.Clear();
            _away.Clear();
            _awayByAddress.Clear();
            _nodes.Clear();
            return all;
        }
    }

    private void Unlink(Session session)
    {
        if (!_nodes.Remove(session, out var nodes))
        {
            return;
        }

        _away.Remove(nodes.All);
        var list = nodes.Address.List!;
        list.Remove(nodes.Address);
        if (list.Count == 0)
        {
            _awayByAddress.Remove(session.Client.Address);
        }
    }
}
