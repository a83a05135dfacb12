namespace VizHtml.IntegrationTests.Conformance;

/// <summary>
/// Every place where a host's expected outcome differs from the others, each with the reason. All three hosts let the
/// runtime's own WebSocket (<c>WebSocket.CreateFromStream</c>) parse frames; under Mono that is the corefx 2.x
/// <c>ManagedWebSocket</c> that Mono ships, which checks less than .NET 10's. VizHtml never sees the frame headers, so it
/// cannot make these cases conform without parsing frames itself; they are pinned here so a Mono fix shows up as a
/// failing case. README.md lists them.
/// </summary>
internal static class HostDifferences
{
    /// <summary>
    /// Whether the host fails a client frame without the mask bit (RFC 6455 5.1 MUST). Mono's WebSocket does not look at
    /// the bit on the server side: it takes the unmasked frame as it is (echoes a text, answers a ping or a close).
    /// </summary>
    public static bool FailsUnmaskedFrames(EchoHost host) => host != EchoHost.Mono;

    /// <summary>
    /// The code a host answers a close with when the client's code is the IANA-registered 1012, 1013 or 1014 (not in
    /// RFC 6455 itself; Autobahn 7.7 treats them as valid). Mono's WebSocket counts them as reserved and fails with 1002.
    /// </summary>
    public static int AnswerToCloseCode(EchoHost host, int code) => host == EchoHost.Mono && code is >= 1012 and <= 1014 ? 1002 : code;

    /// <summary>
    /// The code for a 64-bit payload length with the most significant bit set (RFC 6455 5.2: it MUST be 0). Mono's
    /// WebSocket does not check the bit and reads the length as a huge frame, so VizHtml's own message limits end the
    /// connection with 1009.
    /// </summary>
    public static int CodeForLengthWithMostSignificantBitSet(EchoHost host) => host == EchoHost.Mono ? 1009 : 1002;
}
