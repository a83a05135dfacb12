namespace VizHtml.Sessions;

/// <summary>
/// Where resumable sessions are found again: by their current secret token, and the ones that are away (their
/// connection lost, their events kept) for expiry. The seam a distributed store (several server processes behind one
/// address) would fill; today <see cref="InMemorySessionStore"/> does.
/// </summary>
internal interface ISessionStore
{
    /// <summary>How many sessions are away and may still resume.</summary>
    int AwayCount { get; }

    /// <summary>The sessions that are away, to walk for expiry.</summary>
    IEnumerable<Session> Away { get; }

    /// <summary>Files a session under its current token (a new session, or one whose token a resume rotated).</summary>
    void Add(Session session);

    /// <summary>Takes the session a token belongs to; a token works once, so it is no longer found by it.</summary>
    bool TryTake(string token, out Session session);

    /// <summary>Marks a session away (its connection was lost but it may resume) or back.</summary>
    void SetAway(Session session, bool away);

    /// <summary>Forgets a session: it can no longer be resumed.</summary>
    void Remove(Session session);

    /// <summary>Forgets every session (the server stops; after a restart nothing can be resumed).</summary>
    IReadOnlyList<Session> Clear();
}
