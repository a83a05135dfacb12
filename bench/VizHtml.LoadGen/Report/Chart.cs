using ScottPlot;
using VizHtml.LoadGen.Servers;

namespace VizHtml.LoadGen.Report;

/// <summary>docs/benchmarks.png: four panels of grouped bars, one color per server, medians of the same run.</summary>
internal static class Chart
{
    private static readonly Color[] Palette =
    [
        Color.FromHex("#d62728"), // vizhtml stands out in red, its other hosts in lighter reds
        Color.FromHex("#ff9896"),
        Color.FromHex("#e377c2"),
        Color.FromHex("#1f77b4"),
        Color.FromHex("#2ca02c"),
        Color.FromHex("#9467bd"),
        Color.FromHex("#ff7f0e"),
        Color.FromHex("#7f7f7f"),
    ];

    public static void Write(string path, ResultSet results, IReadOnlyList<string> servers)
    {
        var broadcasts = results.Rows.Select(r => r.Row.Scenario).Where(s => s.StartsWith("broadcast-", StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal).OrderBy(BroadcastOrder).ToList();
        var multiplot = new Multiplot();
        multiplot.AddPlots(4);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, 2);

        Panel(multiplot.GetPlot(0), "Broadcast: server CPU per delivery (µs, lower is better)", servers, [.. broadcasts], Short,
            (scenario, server) => results.Median(scenario, server, "cpu_us_per_delivery"));
        Panel(multiplot.GetPlot(1), "Broadcast: deliveries/s (thousands, higher is better)", servers, [.. broadcasts], Short,
            (scenario, server) => results.Median(scenario, server, "deliveries_per_s") / 1000);
        Panel(multiplot.GetPlot(2), "Echo, 1 client, 64 B: round trip (µs, lower is better)", servers, ["rtt_p50_us", "rtt_p99_us"], m => m == "rtt_p50_us" ? "p50" : "p99",
            (metric, server) => results.Median("echo-1x64", server, metric));
        Panel(multiplot.GetPlot(3), "Idle memory per connection (KB, lower is better)", servers, [results.IdleScenario, "idle-max"], s => s == "idle-max" ? "at the most held" : $"at {s["idle-".Length..]}",
            (scenario, server) => results.Median(scenario, server, "kb_per_conn"));
        multiplot.SavePng(path, 1600, 1000);
    }

    /// <summary>The same color for a server in every panel and every report: its place in the catalog.</summary>
    private static Color ColorOf(string server)
    {
        var index = ServerCatalog.All.Select(s => s.Name).ToList().IndexOf(server);
        return Palette[(index < 0 ? Palette.Length - 1 : index) % Palette.Length];
    }

    private static int BroadcastOrder(string scenario)
    {
        // broadcast-1000x64 → clients then size, so the groups read 100×64, 100×1024, 1000×64...
        var parts = scenario["broadcast-".Length..].Split('x');
        return int.TryParse(parts[0], out var clients) && int.TryParse(parts[^1], out var size) ? (clients * 10_000) + size : int.MaxValue;
    }

    private static string Short(string scenario) =>
        scenario["broadcast-".Length..].Replace("x1024", " × 1 KB", StringComparison.Ordinal).Replace("x64", " × 64 B", StringComparison.Ordinal);

    private static void Panel(Plot plot, string title, IReadOnlyList<string> servers, string[] groups, Func<string, string> groupLabel, Func<string, string, double?> value)
    {
        plot.Title(title, size: 14);
        var bars = new List<Bar>();
        var width = 0.8 / Math.Max(1, servers.Count);
        for (var g = 0; g < groups.Length; g++)
        {
            for (var s = 0; s < servers.Count; s++)
            {
                if (value(groups[g], servers[s]) is { } v && !double.IsNaN(v))
                {
                    bars.Add(new Bar
                    {
                        Position = g + ((s - ((servers.Count - 1) / 2.0)) * width),
                        Value = v,
                        Size = width * 0.9,
                        FillColor = ColorOf(servers[s]),
                        LineWidth = 0,
                    });
                }
            }
        }

        if (bars.Count == 0)
        {
            plot.Add.Annotation("not measured", Alignment.MiddleCenter);
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, groups.Length).Select(i => (double)i).ToArray(), groups.Select(groupLabel).ToArray());
        plot.Axes.Margins(bottom: 0, top: 0.3); // room for the legend above the tallest bar
        for (var s = 0; s < servers.Count; s++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = servers[s], FillColor = ColorOf(servers[s]) });
        }

        plot.Legend.Orientation = Orientation.Horizontal;
        plot.Legend.Alignment = Alignment.UpperRight;
        plot.ShowLegend();
    }
}
