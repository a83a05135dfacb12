using System.Security.Cryptography;

namespace VizHtml.Connections;

/// <summary>
/// The reliability state of a client that speaks protocol version 2: sequence numbers both ways, the replay buffer of
/// unacknowledged events, the secret resume token. It outlives a connection, so a client that reconnects within
/// <see cref="VizHtmlOptions.ResumeTimeout"/> picks up where it left off. Guarded by <see cref="Gate"/>.
/// </summary>
internal sealed class Session(ReplayBuffer replay)
{
    public Lock Gate { get; } = new();

    /// <summary>The secret a reconnecting client presents; replaced at every attach, so a token works once.</summary>
    public string Token { get; private set; } = NewToken();

    /// <summary>The sequence number of the last reliable event sent to the client.</summary>
    public long LastSent { get; set; }

    /// <summary>The sequence number of the last event from the client that the application has received.</summary>
    public long LastReceived { get; set; }

    public ReplayBuffer Replay { get; } = replay;

    /// <summary>The newest value of each latest-class event, sent again on resume instead of being replayed.</summary>
    public Dictionary<string, ReadOnlyMemory<byte>> LatestValues { get; } = new(StringComparer.Ordinal);

    /// <summary>When the connection was lost (a <see cref="TimeProvider"/> timestamp), or null while attached.</summary>
    public long? DetachedAt { get; set; }

    public string RotateToken() => Token = NewToken();

    private static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
}
