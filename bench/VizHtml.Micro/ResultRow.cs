using System.Text.Json.Serialization;

namespace VizHtml.Micro;

/// <summary>One row of bench/results/*.json, as the suite's results contract lays it out.</summary>
internal sealed record ResultRow(
    [property: JsonPropertyName("scenario")] string Scenario,
    [property: JsonPropertyName("server")] string Server,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("unit")] string Unit,
    [property: JsonPropertyName("better")] string Better,
    [property: JsonPropertyName("values")] IReadOnlyList<double> Values,
    [property: JsonPropertyName("median")] double Median,
    [property: JsonPropertyName("note")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Note = null)
{
    public static ResultRow Lower(string scenario, string metric, string unit, IReadOnlyList<double> values, string? note = null) =>
        new(scenario, "vizhtml", metric, unit, "lower", values.Select(Round).ToArray(), Round(Stats.Median(values.ToArray())), note);

    private static double Round(double value) => Math.Round(value, 3);
}
