using System.Text.Json;
using VizHtml.LoadGen.Results;

namespace VizHtml.LoadGen.Report;

/// <summary>Every row of every bench/results/*.json, with the file each came from.</summary>
internal sealed class ResultSet
{
    private ResultSet(List<(string File, ResultRow Row)> rows, List<string> skipped)
    {
        Rows = rows;
        Skipped = skipped;
    }

    public IReadOnlyList<(string File, ResultRow Row)> Rows { get; }

    /// <summary>Files that are not arrays of rows (loadgen.meta.json, or something broken), named with why.</summary>
    public IReadOnlyList<string> Skipped { get; }

    public static ResultSet Load(string directory)
    {
        var rows = new List<(string, ResultRow)>();
        var skipped = new List<string>();
        if (!Directory.Exists(directory))
        {
            return new ResultSet(rows, skipped);
        }

        foreach (var path in Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            var file = Path.GetFileName(path);
            if (file.EndsWith(".meta.json", StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                var parsed = JsonSerializer.Deserialize<List<ResultRow>>(File.ReadAllText(path), ResultRow.Json);
                foreach (var row in parsed ?? [])
                {
                    if (row.Scenario is null || row.Server is null || row.Metric is null)
                    {
                        continue;
                    }

                    // The median is recomputed from the runs, so a writer that left it out still gets one.
                    var values = row.Values ?? [];
                    var median = values.Length > 0 ? ResultRow.MedianOf(values) : row.Median;
                    rows.Add((file, row with { Values = values, Median = median, Unit = row.Unit ?? string.Empty, Better = row.Better ?? "lower" }));
                }
            }
            catch (JsonException ex)
            {
                skipped.Add($"{file} ({ex.Message.Split('.')[0]})");
            }
        }

        return new ResultSet(rows, skipped);
    }

    /// <summary>The median of one figure, or null when nobody measured it.</summary>
    public double? Median(string scenario, string server, string metric)
    {
        foreach (var (_, row) in Rows)
        {
            if (row.Scenario == scenario && row.Server == server && row.Metric == metric && row.Median is { } median && !double.IsNaN(median))
            {
                return median;
            }
        }

        return null;
    }

    /// <summary>The idle scenario at a fixed count (idle-10000; idle-2000 in quick mode), as opposed to idle-max.</summary>
    public string IdleScenario =>
        Rows.Select(r => r.Row.Scenario).Where(s => s.StartsWith("idle-", StringComparison.Ordinal) && s != "idle-max").Distinct()
            .OrderByDescending(s => int.TryParse(s["idle-".Length..], out var n) ? n : 0).FirstOrDefault() ?? "idle-10000";

    public ResultRow? Find(Func<ResultRow, bool> predicate) => Rows.Select(r => r.Row).FirstOrDefault(predicate);
}
