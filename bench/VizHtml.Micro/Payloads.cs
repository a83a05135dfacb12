using System.Text.Json;
using VizHtml.Protocol;

namespace VizHtml.Micro;

/// <summary>The application payloads of the suite's contract: a 20-digit nanosecond timestamp, then 'x' up to the size.</summary>
internal static class Payloads
{
    public const string EventName = "b";

    public static string Of(int size)
    {
        var stamp = ((long)(System.Diagnostics.Stopwatch.GetTimestamp() * (1e9 / System.Diagnostics.Stopwatch.Frequency))).ToString("D20", System.Globalization.CultureInfo.InvariantCulture);
        return size <= stamp.Length ? stamp[..size] : stamp + new string('x', size - stamp.Length);
    }

    /// <summary>The serializer a server with default options uses.</summary>
    public static EnvelopeSerializer Serializer() => new(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
