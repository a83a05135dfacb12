namespace VizHtml.Sessions;

/// <summary>
/// Where resumable sessions are found again: by their current secret token, and the ones that are away (their
/// connection lost, their events kept), oldest first, for expiry and for the limits on away sessions. The seam a
/// distributed store (several server processes behind one address) would fill; today <see cref="InMemorySessionStore"/> does.
/// </summary>
internal interface ISessionStore
{
    /// <summary>How many sessions are away and may still resume.</summary>
    int AwayCount { get; }

    /// <summary>The session away longest (from <paramref name="address"/>, if given), or null when none is away.</summary>
    Session? OldestAway(string? address = null);

    /// <summary>Files a session under its current token (a new session, or one whose token a resume rotated).</summary>
    void Add(Session session);

    /// <summary>Takes the session a token belongs to; a token works once, so it is no longer found by it.</summary>
    bool TryTake(string token, out Session session);

    /// <summary>
    /// Marks a session away (its connection was lost but it may resume; it becomes the newest away) or back. Marking one
    /// away keeps the away sessions within the store's limits in the same step: the ones away longest (in all, or from
    /// the same address) are taken off and returned, for the caller to end.
    /// </summary>
    IReadOnlyList<Session> SetAway(Session session, bool away);

    /// <summary>Forgets a session: it can no longer be resumed.</summary>
    void Remove(Session session);

    /// <summary>Forgets every session (the server stops; after a restart nothing can be resumed).</summary>
    IReadOnlyList<Session> Clear();
}
