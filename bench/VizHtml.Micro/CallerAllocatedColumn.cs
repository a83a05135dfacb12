using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace VizHtml.Micro;

/// <summary>
/// "Caller alloc/op": the bytes the thread calling SendAll allocated per broadcast (median over the iterations), which
/// BenchmarkDotNet's own Allocated column cannot show because it counts every thread. The benchmark process records the
/// figure in a small file per scenario; the host reads it back for the summary table and for micro.json.
/// </summary>
internal sealed class CallerAllocatedColumn : IColumn
{
    /// <summary>Environment variable naming the folder of those files (set by the host, inherited by benchmark processes).</summary>
    public const string FolderVariable = "VIZHTML_MICRO_CALLER_ALLOC";

    public string Id => nameof(CallerAllocatedColumn);

    public string ColumnName => "Caller alloc/op";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Metric;

    public int PriorityInCategory => 10;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Size;

    public string Legend => "Bytes allocated per operation by the calling thread alone (GC.GetAllocatedBytesForCurrentThread, median of iterations)";

    public static void Record(string scenario, IReadOnlyList<double> perOperation)
    {
        if (Environment.GetEnvironmentVariable(FolderVariable) is not { } folder || perOperation.Count == 0)
        {
            return;
        }

        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, scenario + ".json"), JsonSerializer.Serialize(perOperation));
    }

    /// <summary>The iterations' figures recorded for <paramref name="scenario"/>, or null.</summary>
    public static double[]? Read(string scenario)
    {
        if (Environment.GetEnvironmentVariable(FolderVariable) is not { } folder)
        {
            return null;
        }

        var path = Path.Combine(folder, scenario + ".json");
        return File.Exists(path) ? JsonSerializer.Deserialize<double[]>(File.ReadAllText(path)) : null;
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (ScenarioOf(benchmarkCase) is not { } scenario || Read(scenario) is not { Length: > 0 } values)
        {
            return "-";
        }

        return Stats.Median(values).ToString("0.0", CultureInfo.InvariantCulture) + " B";
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <summary>The micro.json scenario name of a SendAll case, or null for other benchmarks.</summary>
    public static string? ScenarioOf(BenchmarkCase benchmarkCase)
    {
        if (!typeof(SendAllBenchmarks).IsAssignableFrom(benchmarkCase.Descriptor.Type))
        {
            return null;
        }

        var instance = (SendAllBenchmarks)Activator.CreateInstance(benchmarkCase.Descriptor.Type)!;
        var protocol = benchmarkCase.Parameters[nameof(SendAllBenchmarks.Protocol)] as string;
        return $"micro-sendall-{protocol}-N{instance.Clients}";
    }

    public override string ToString() => ColumnName;
}
