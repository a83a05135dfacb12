using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace VizHtml.Fuzz;

/// <summary>
/// Target <c>vizdata</c>: the public <see cref="VizData"/> API on JSON text.
/// </summary>
/// <remarks>
/// Input: one or two documents separated by the first NUL byte. A document that starts with the bytes FF FE is read
/// as raw UTF-16LE code units (so lone surrogates reach <see cref="VizData.Parse"/>); any other is read as UTF-8
/// (invalid bytes become U+FFFD).
/// Invariants (kept in step with test/VizHtml.Tests/Protocol/FuzzRegressionTests.cs):
/// <list type="number">
/// <item>Parse throws only <see cref="JsonException"/> (documented), or <see cref="ArgumentException"/> for text
/// that is not well-formed UTF-16 (not JSON text at all; tolerated, see fuzz/README.md).</item>
/// <item>A parsed value's Kind, Count, Names, ToJson and ToString never throw.</item>
/// <item>ToJson re-parses to an equal value (both ways), with the same ToJson text.</item>
/// <item><c>As&lt;object&gt;()</c> throws nothing but <see cref="JsonException"/>.</item>
/// <item>With two documents: Equals is symmetric, agrees with <c>==</c>, and equal values have equal hash codes.</item>
/// </list>
/// </remarks>
internal static class VizDataTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var split = input.IndexOf((byte)0);
        var first = Check(Decode(split < 0 ? input : input[..split]));
        if (split < 0)
        {
            return;
        }

        var second = Check(Decode(input[(split + 1)..]));
        if (first is null || second is null)
        {
            return;
        }

        var ab = first.Equals(second);
        var ba = second.Equals(first);
        InvariantException.Check(ab == ba, "vizdata.equals-symmetric", $"a.Equals(b)={ab} but b.Equals(a)={ba}: {Show(first)} vs {Show(second)}");
        InvariantException.Check((first == second) == ab, "vizdata.equals-operator", "== disagrees with Equals");
        if (ab)
        {
            InvariantException.Check(first.GetHashCode() == second.GetHashCode(), "vizdata.hash-consistent",
                $"equal values have different hash codes: {Show(first)} vs {Show(second)}");
        }
    }

    internal static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes is [0xFF, 0xFE, ..])
        {
            var units = bytes[2..];
            return new string(MemoryMarshal.Cast<byte, char>(units[..(units.Length & ~1)]));
        }

        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Checks one document; returns the parsed value, or null when it is (legitimately) not JSON.</summary>
    internal static VizData? Check(string text)
    {
        VizData data;
        try
        {
            data = VizData.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (ArgumentException) when (!EnvelopeTarget.IsWellFormedUtf16(text))
        {
            return null;
        }
        catch (Exception ex)
        {
            throw new InvariantException("vizdata.parse-throws", $"Parse threw {ex.GetType().Name} (documented: JsonException): {ex.Message}", ex);
        }

        string json;
        try
        {
            _ = data.Kind;
            _ = data.IsNull;
            _ = data.Count;
            _ = data.Names.Count();
            json = data.ToJson();
            _ = data.ToString();
        }
        catch (Exception ex)
        {
            throw new InvariantException("vizdata.read-throws", $"a parsed value cannot be read back: {ex.GetType().Name}: {ex.Message}", ex);
        }

        VizData again;
        try
        {
            again = VizData.Parse(json);
        }
        catch (Exception ex)
        {
            throw new InvariantException("vizdata.reparse", $"ToJson output does not parse: {ex.GetType().Name}: {ex.Message}; json={EnvelopeTarget.Truncate(json)}", ex);
        }

        InvariantException.Check(data.Equals(again) && again.Equals(data), "vizdata.roundtrip", $"Parse(ToJson()) differs: {EnvelopeTarget.Truncate(json)}");
        InvariantException.Check(again.ToJson() == json, "vizdata.fixpoint", $"ToJson is not stable: {EnvelopeTarget.Truncate(json)} then {EnvelopeTarget.Truncate(again.ToJson())}");
        InvariantException.Check(JsonSerializer.Serialize(data) == json, "vizdata.converter", "the JSON converter writes different text than ToJson");

        try
        {
            _ = data.As<object>();
        }
        catch (JsonException)
        {
        }
        catch (Exception ex)
        {
            throw new InvariantException("vizdata.as-object", $"As<object>() threw {ex.GetType().Name} (documented: JsonException): {ex.Message}", ex);
        }

        return data;
    }

    private static string Show(VizData value) => EnvelopeTarget.Truncate(value.ToJson());
}
