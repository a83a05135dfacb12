using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace VizHtml.Fuzz;

/// <summary>
/// Target <c>envelope</c>: <c>EnvelopeReader.Read</c> on raw bytes, exactly as the server calls it for each inbound
/// text message (same maximum depth as the server's default <c>MaxJsonDepth</c>).
/// </summary>
/// <remarks>
/// Invariants (kept in step with test/VizHtml.Tests/Protocol/FuzzRegressionTests.cs):
/// <list type="number">
/// <item>Read never throws: every input that is valid UTF-8 (what a WebSocket text message is) gives either a valid
/// envelope or an error code.</item>
/// <item>An error carries one of the documented codes and a message, and no name or data.</item>
/// <item>A valid envelope's event name follows docs/protocol.md (independent re-implementation below) and is
/// well-formed UTF-16; <c>$hello</c>, <c>$ack</c> and <c>$reply</c> are the only reserved names a client may send.</item>
/// <item>A valid envelope's <c>seq</c> is 0 (absent) or positive; its data is detached from the envelope.</item>
/// <item>Where the one-pass reader decides a message, its result (name, error, seq, data) is the general path's.</item>
/// <item>A valid envelope's data re-serializes (<c>ToJsonString</c>), re-parses, and the result is
/// <c>JsonNode.DeepEquals</c> to it; serializing again gives the same text.</item>
/// </list>
/// </remarks>
internal static class EnvelopeTarget
{
    /// <summary>The server's default <c>VizHtmlOptions.MaxJsonDepth</c>.</summary>
    public const int MaxDepth = 64;

    private static readonly Internals.EnvelopeReader Reader = new(MaxDepth);

    private static readonly string[] ErrorCodes = ["invalid_json", "invalid_envelope", "invalid_event_name"];

    public static void Run(ReadOnlySpan<byte> input)
    {
        // The WebSocket layer closes a connection that sends invalid UTF-8 in a text message (1007) before the reader
        // sees it, so such input is outside the reader's domain.
        if (!Utf8.IsValid(input))
        {
            return;
        }

        // Read takes memory it may keep slices of; give it its own copy.
        var envelope = Reader.Read(input.ToArray());

        // Where the one-pass reader decides a message, it decides exactly what the general path (a JSON tree) decides.
        if (Reader.ReadOnePass(input.ToArray()) is { } onePass)
        {
            var general = Reader.ReadGeneral(input.ToArray());
            InvariantException.Check(
                (onePass.IsValid, onePass.EventName, onePass.ErrorCode, onePass.ErrorMessage, onePass.Seq) == (general.IsValid, general.EventName, general.ErrorCode, general.ErrorMessage, general.Seq)
                && JsonNode.DeepEquals(onePass.Data, general.Data),
                "envelope.one-pass", $"the one pass read {onePass} where the general path read {general}");
        }

        if (!envelope.IsValid)
        {
            InvariantException.Check(envelope.ErrorCode is not null && Array.IndexOf(ErrorCodes, envelope.ErrorCode) >= 0,
                "envelope.error-code", $"undocumented error code '{envelope.ErrorCode}'");
            InvariantException.Check(!string.IsNullOrEmpty(envelope.ErrorMessage), "envelope.error-message", "error without a message");
            InvariantException.Check(envelope.EventName is null && envelope.Data is null, "envelope.error-empty", "an error also carries a name or data");
            return;
        }

        var name = envelope.EventName;
        InvariantException.Check(name is not null, "envelope.name-present", "a valid envelope has no event name");
        var problem = EventNameProblem(name!);
        InvariantException.Check(problem is null, "envelope.name-rules", $"accepted event name breaks the rules ({problem}): {Describe(name!)}");
        InvariantException.Check(envelope.Seq >= 0, "envelope.seq", $"accepted negative seq {envelope.Seq}");

        if (envelope.Data is not { } data)
        {
            return;
        }

        InvariantException.Check(data.Parent is null, "envelope.data-detached", "data is still attached to the envelope object");
        CheckRoundTrip(data, "envelope");
    }

    /// <summary>Serializes, re-parses and compares; shared with the VizData target.</summary>
    internal static void CheckRoundTrip(JsonNode data, string target)
    {
        string json;
        try
        {
            json = data.ToJsonString();
        }
        catch (Exception ex) when (ex is not InvariantException)
        {
            throw new InvariantException($"{target}.data-reserializes", $"accepted data cannot be written back as JSON: {ex.GetType().Name}: {ex.Message}", ex);
        }

        JsonNode? again;
        try
        {
            // A value nested inside an envelope is at most MaxDepth - 1 deep, so it re-parses under the default limit.
            again = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth, AllowDuplicateProperties = false });
        }
        catch (Exception ex)
        {
            throw new InvariantException($"{target}.data-reparses", $"re-serialized data does not parse: {ex.GetType().Name}: {ex.Message}; json={Truncate(json)}", ex);
        }

        bool equal;
        try
        {
            equal = JsonNode.DeepEquals(data, again);
        }
        catch (Exception ex)
        {
            throw new InvariantException($"{target}.data-compares", $"DeepEquals threw {ex.GetType().Name}: {ex.Message}", ex);
        }

        InvariantException.Check(equal, $"{target}.data-roundtrip", $"re-parsed data differs from the original; json={Truncate(json)}");
        var twice = again?.ToJsonString() ?? "null";
        InvariantException.Check(twice == json, $"{target}.data-fixpoint", $"serializing the re-parsed data gives different text: {Truncate(json)} then {Truncate(twice)}");
    }

    /// <summary>docs/protocol.md: 1–256 UTF-16 characters, no control characters, no '$' prefix except the control events a client may send.</summary>
    internal static string? EventNameProblem(string name)
    {
        if (name is "$hello" or "$ack" or "$reply")
        {
            return null;
        }

        if (name.Length is 0 or > 256)
        {
            return $"length {name.Length}";
        }

        if (name[0] == '$')
        {
            return "reserved '$' prefix";
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return $"control character U+{(int)c:X4}";
            }
        }

        return IsWellFormedUtf16(name) ? null : "lone surrogate";
    }

    internal static bool IsWellFormedUtf16(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A printable, quoted form of any string, lone surrogates and control characters included.</summary>
    internal static string Describe(string s)
    {
        var text = new StringBuilder("\"");
        foreach (var c in s.Length > 80 ? s[..80] : s)
        {
            text.Append(c is >= ' ' and <= '~' and not '"' and not '\\' ? c.ToString() : "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }

        return text.Append(s.Length > 80 ? "\"…" : "\"").ToString();
    }

    internal static string Truncate(string s) => s.Length <= 200 ? s : string.Concat(s.AsSpan(0, 200), "…");
}
