namespace VizHtml.Fuzz;

/// <summary>
/// <c>RequestHead.Parse</c>, the standalone host's HTTP/1.1 request parser, on what a connection hands it: the bytes
/// before the first empty line (CRLF CRLF), at most <c>MaxHeadBytes</c>.
/// </summary>
/// <remarks>
/// Invariants (kept in step with test/VizHtml.Tests/Hosting/Standalone/StandaloneFuzzRegressionTests.cs):
/// <list type="number">
/// <item>Parse never throws.</item>
/// <item>A refusal has a 4xx or 5xx status and a reason.</item>
/// <item>A parsed request has a method; its path starts with '/', holds no '\0', and no "." or ".." segment; its query is
/// empty or starts with '?'.</item>
/// <item>Its ContentLength is 0 without a Content-Length header and never negative; an HTTP/1.1 request has a Host.</item>
/// </list>
/// </remarks>
internal static class RequestHeadTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        // The connection splits the head at the first empty line and refuses anything longer before parsing.
        var end = input.IndexOf("\r\n\r\n"u8);
        if (end >= 0)
        {
            input = input[..end];
        }

        if (input.Length > Internals.RequestHead.MaxHeadBytes)
        {
            input = input[..Internals.RequestHead.MaxHeadBytes];
        }

        var result = Internals.RequestHead.Parse(input.ToArray());
        if (result.Refusal is { } refusal)
        {
            InvariantException.Check(refusal.Status is >= 400 and <= 599, "requesthead.refusal-status", $"refused with status {refusal.Status}");
            InvariantException.Check(!string.IsNullOrEmpty(refusal.Reason), "requesthead.refusal-reason", "refused without a reason");
            return;
        }

        var head = result.Head!.Value;
        InvariantException.Check(head.Method.Length > 0, "requesthead.method", "a request without a method");
        InvariantException.Check(head.Path.StartsWith('/'), "requesthead.path-rooted", $"path does not start with '/': {EnvelopeTarget.Describe(head.Path)}");
        InvariantException.Check(!head.Path.Contains('\0', StringComparison.Ordinal), "requesthead.path-nul", $"path holds NUL: {EnvelopeTarget.Describe(head.Path)}");
        var segments = head.Path + "/";
        InvariantException.Check(!segments.Contains("/../", StringComparison.Ordinal) && !segments.Contains("/./", StringComparison.Ordinal),
            "requesthead.path-dot-segment", $"path keeps a dot segment: {EnvelopeTarget.Describe(head.Path)}");
        InvariantException.Check(head.Query.Length == 0 || head.Query[0] == '?', "requesthead.query", $"query without '?': {EnvelopeTarget.Describe(head.Query)}");
        InvariantException.Check(head.ContentLength >= 0, "requesthead.content-length", $"negative Content-Length {head.ContentLength}");
        InvariantException.Check(head.HasContentLength || head.ContentLength == 0, "requesthead.no-content-length", $"length {head.ContentLength} without a header");
        InvariantException.Check(!head.IsHttp11 || head.Host is not null, "requesthead.host", "an HTTP/1.1 request without Host");
    }
}
