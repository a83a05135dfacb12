using System.Collections.Concurrent;

namespace VizHtml.Sessions;

/// <summary>The sessions of this process: two concurrent dictionaries, by token and (for the away ones) by client id.</summary>
internal sealed class InMemorySessionStore : ISessionStore
{
    private readonly ConcurrentDictionary<string, Session> _byToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Session> _away = new(StringComparer.Ordinal);

    public int AwayCount => _away.Count;

    public IEnumerable<Session> Away => _away.Values;

    public void Add(Session session) => _byToken[session.Token!] = session;

    public bool TryTake(string token, out Session session) => _byToken.TryRemove(token, out session!);

    public void SetAway(Session session, bool away)
    {
        if (away)
        {
            _away[session.Client.Id] = session;
        }
        else
        {
            _away.TryRemove(session.Client.Id, out _);
        }
    }

    public void Remove(Session session)
    {
        if (session.Token is { } token)
        {
            _byToken.TryRemove(new KeyValuePair<string, Session>(token, session));
        }

        _away.TryRemove(session.Client.Id, out _);
    }

    public IReadOnlyList<Session> Clear()
    {
        var all = _byToken.Values.Concat(_away.Values).Distinct().ToArray();
        _byToken.Clear();
        _away.Clear();
        return all;
    }
}
