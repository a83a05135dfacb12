using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VizHtml.LoadGen.Results;

/// <summary>One row of a results file, as the suite's contract defines it (bench/results/*.json is an array of these).</summary>
internal sealed record ResultRow(
    string Scenario,
    string Server,
    string Metric,
    string Unit,
    string Better,
    double[] Values,
    double? Median,
    string? Note)
{
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    };

    public static double? MedianOf(IReadOnlyList<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        return sorted.Length == 0 ? null
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>Gathers one value per run for each (scenario, server, metric) and writes the rows with their medians.</summary>
internal sealed class ResultCollector
{
    private readonly Dictionary<(string Scenario, string Server, string Metric), Entry> _entries = [];
    private readonly List<(string Scenario, string Server, string Metric)> _order = [];
    private readonly List<(string Scenario, string Server, string Note)> _notes = [];

    public void Add(string scenario, string server, string metric, string unit, string better, double value)
    {
        var entry = Get(scenario, server, metric, unit, better);
        if (!double.IsNaN(value) && !double.IsInfinity(value))
        {
            entry.Values.Add(Math.Round(value, 4));
        }
    }

    /// <summary>Attaches a remark to every row of a scenario and server (incomplete runs, a client-bound load generator...).</summary>
    public void Note(string scenario, string server, string note) => _notes.Add((scenario, server, note));

    /// <summary>
    /// The rows, each with the notes of its scenario and server. A note on a scenario that measured nothing (a server
    /// that failed to start, clients that could not connect) becomes a row of its own, metric <c>not_measured</c>.
    /// </summary>
    public IReadOnlyList<ResultRow> Rows()
    {
        string? NotesOf(string scenario, string server)
        {
            var notes = _notes.Where(n => n.Scenario == scenario && n.Server == server).Select(n => n.Note).Distinct().ToList();
            return notes.Count == 0 ? null : string.Join("; ", notes);
        }

        var rows = _order.Select(key =>
        {
            var entry = _entries[key];
            var median = ResultRow.MedianOf(entry.Values);
            return new ResultRow(key.Scenario, key.Server, key.Metric, entry.Unit, entry.Better, [.. entry.Values],
                median is { } m ? Math.Round(m, 4) : null, NotesOf(key.Scenario, key.Server));
        }).ToList();
        foreach (var (scenario, server) in _notes.Select(n => (n.Scenario, n.Server)).Distinct())
        {
            if (!_order.Any(k => k.Scenario == scenario && k.Server == server))
            {
                rows.Add(new ResultRow(scenario, server, "not_measured", string.Empty, "n/a", [], null, NotesOf(scenario, server)));
            }
        }

        return rows;
    }

    public void Write(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(Rows(), ResultRow.Json) + "\n");
        File.Move(temporary, path, overwrite: true);
    }

    private Entry Get(string scenario, string server, string metric, string unit, string better)
    {
        var key = (scenario, server, metric);
        if (!_entries.TryGetValue(key, out var entry))
        {
            _entries[key] = entry = new Entry(unit, better);
            _order.Add(key);
        }

        return entry;
    }

    private sealed record Entry(string Unit, string Better)
    {
        public List<double> Values { get; } = [];
    }
}
