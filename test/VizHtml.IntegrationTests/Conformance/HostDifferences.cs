namespace VizHtml.IntegrationTests.Conformance;

/// <summary>
/// Every place where a host's expected outcome differs from the others, each with the reason. All three hosts let the
/// runtime's own WebSocket (<c>WebSocket.CreateFromStream</c>) parse frames; under Mono that is the corefx 2.x
/// <c>ManagedWebSocket</c> that Mono ships, which checks less than .NET 10's. The standalone host's
/// <c>ClientFrameGuardStream</c> makes up for the header checks it misses (mask bit, 64-bit length); what is left here
/// would need VizHtml to read close payloads itself, and is pinned so a Mono fix shows up as a failing case.
/// </summary>
internal static class HostDifferences
{
    /// <summary>
    /// The code a host answers a close with when the client's code is the IANA-registered 1012, 1013 or 1014 (not in
    /// RFC 6455 itself; Autobahn 7.7 treats them as valid). Mono's WebSocket counts them as reserved and fails with 1002.
    /// </summary>
    public static int AnswerToCloseCode(EchoHost host, int code) => host == EchoHost.Mono && code is >= 1012 and <= 1014 ? 1002 : code;
}
