using System.Globalization;

namespace VizHtml.LoadGen.Report;

/// <summary>One target of issue 5 checked against the results: what was measured, the bar, met or missed and by how much.</summary>
internal sealed record TargetCheck(string Target, string Measured, string Bar, bool? Met, string Margin);

/// <summary>The targets of issues 5 and 12, each computed from the medians of the same run.</summary>
internal static class Targets
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static IReadOnlyList<TargetCheck> Check(ResultSet results)
    {
        const string B1000 = "broadcast-1000x64";
        var idle = results.IdleScenario;
        var idleCount = int.TryParse(idle["idle-".Length..], NumberStyles.None, Inv, out var n) ? n : 10_000;
        double? Viz(string scenario, string metric) => results.Median(scenario, "vizhtml", metric);
        double? Peer(string scenario, string server, string metric) => results.Median(scenario, server, metric);
        double? Times(double? value, double factor) => value * factor;

        var checks = new List<TargetCheck>
        {
            AtMost("Broadcast 1,000 clients × 64 B: server CPU per delivery ≤ Bun's", Viz(B1000, "cpu_us_per_delivery"), Peer(B1000, "bun", "cpu_us_per_delivery"), "µs", "Bun's"),
            AtMost("Broadcast 1,000 clients × 64 B: server CPU per delivery ≤ ¼ of SignalR's", Viz(B1000, "cpu_us_per_delivery"), Times(Peer(B1000, "signalr", "cpu_us_per_delivery"), 0.25), "µs", "¼ of SignalR's"),
            AtLeast("Broadcast 1,000 clients × 64 B: deliveries/s ≥ 2× SignalR's", Viz(B1000, "deliveries_per_s"), Times(Peer(B1000, "signalr", "deliveries_per_s"), 2), "/s", "2× SignalR's"),
            AtLeast("Broadcast 1,000 clients × 64 B: deliveries/s ≥ Bun's", Viz(B1000, "deliveries_per_s"), Peer(B1000, "bun", "deliveries_per_s"), "/s", "Bun's"),
            AtMost("Broadcast 1,000 clients × 64 B: load generator not the bottleneck (its core < 90 % busy)", Viz(B1000, "loadgen_cpu_pct"), 90, "%", null),
            AtLeast("Broadcast 100 clients × 64 B: deliveries/s ≥ SignalR's", Viz("broadcast-100x64", "deliveries_per_s"), Peer("broadcast-100x64", "signalr", "deliveries_per_s"), "/s", "SignalR's"),
            AtMost("Broadcast 1,000 clients × 1 KB: server CPU per delivery ≤ 0.6 µs", Viz("broadcast-1000x1024", "cpu_us_per_delivery"), 0.6, "µs", null),
            AtMost("Host app, 200 clients at 60 Hz with 1 KB: VizHtml uses ≤ 3 % of one core", Viz("hostapp-200x60hz-1024", "server_cpu_pct"), 3, "%", null),
            AtMost("Host app: delivery latency p99 ≤ 5 ms", Viz("hostapp-200x60hz-1024", "latency_p99_us"), 5000, "µs", null),
            AtMost($"Idle memory at {idleCount:N0} connections ≤ 4 KB per connection", Viz(idle, "kb_per_conn"), 4, "KB", null),
            AtMost("Idle memory ≤ half of ws's", Viz(idle, "kb_per_conn"), Times(Peer(idle, "ws", "kb_per_conn"), 0.5), "KB", "half of ws's"),
            AtMost("Idle memory within 2× of Bun's", Viz(idle, "kb_per_conn"), Times(Peer(idle, "bun", "kb_per_conn"), 2), "KB", "2× Bun's"),
            AtLeast("19,000 connections held by one process", Viz("idle-max", "connections_held"), 19_000, "connections", null),
            AtMost("Echo, one client, 64 B: p50 ≤ 40 µs", Viz("echo-1x64", "rtt_p50_us"), 40, "µs", null),
            AtMost("Echo, one client, 64 B: p99 ≤ 80 µs", Viz("echo-1x64", "rtt_p99_us"), 80, "µs", null),
            AtMost("Echo, one client: p50 ahead of ws", Viz("echo-1x64", "rtt_p50_us"), Peer("echo-1x64", "ws", "rtt_p50_us"), "µs", "ws's"),
            AtMost("Echo, one client: p99 ahead of ws", Viz("echo-1x64", "rtt_p99_us"), Peer("echo-1x64", "ws", "rtt_p99_us"), "µs", "ws's"),
        };

        // The browser figures come from the client helper's results file; its exact names are matched loosely.
        var gzip = results.Find(r => r.Metric.Contains("gzip", StringComparison.OrdinalIgnoreCase));
        // 6 KB until issue 14 raised it for requests both ways and binary payloads.
        checks.Add(AtMost("vizhtml.js ≤ 8 KB gzipped", gzip?.Median is { } size ? ToKilobytes(size, gzip.Unit) : null, 8, "KB", null));
        var decode = results.Find(r => r.Server == "chromium" && r.Better == "higher" && r.Unit.Contains("/s", StringComparison.Ordinal));
        checks.Add(AtLeast("vizhtml.js decodes and dispatches ≥ 200 k small events/s in Chromium", decode?.Median, 200_000, "/s", null));

        // Issue 14: a request's round trip costs about what a plain event's does (Chromium, same run, BrowserBench).
        double? Browser(string scenario) => results.Find(r => r.Scenario == scenario && r.Metric == "p50_us")?.Median;
        checks.Add(AtMost("Request echo p50 within 15 % of a plain event echo in Chromium (issue 14)", Browser("browser-echo-request"), Browser("browser-echo-event") * 1.15, "µs", "1.15× the event echo's"));
        return checks;
    }

    /// <summary>
    /// Issue 12: VizHtml's own server (vizhtml-standalone) against its Kestrel host (vizhtml), both on .NET 10, in the
    /// same run. Mono's figures (vizhtml-mono) are reported beside them without a target.
    /// </summary>
    public static IReadOnlyList<TargetCheck> CheckStandalone(ResultSet results)
    {
        const string Kestrel = Servers.ServerCatalog.VizHtml, Standalone = Servers.ServerCatalog.VizHtmlStandalone;
        var idle = results.IdleScenario;
        var idleCount = int.TryParse(idle["idle-".Length..], NumberStyles.None, Inv, out var n) ? n : 10_000;
        var checks = new List<TargetCheck>();
        foreach (var (scenario, label) in new[] { ("broadcast-1000x64", "1,000 clients × 64 B"), ("broadcast-1000x1024", "1,000 clients × 1 KB") })
        {
            checks.Add(AtMost($"Standalone host, broadcast {label}: server CPU per delivery ≤ 1.5× the Kestrel host's",
                results.Median(scenario, Standalone, "cpu_us_per_delivery"), results.Median(scenario, Kestrel, "cpu_us_per_delivery") * 1.5, "µs", "1.5× Kestrel host's"));
        }

        checks.Add(Below($"Standalone host, idle at {idleCount:N0} connections: memory per connection below the Kestrel host's",
            results.Median(idle, Standalone, "kb_per_conn"), results.Median(idle, Kestrel, "kb_per_conn"), "KB", "Kestrel host's"));
        return checks;
    }

    /// <summary>
    /// Issue 15: the per-frame pattern against the raw Kestrel baseline, same run. The few-tablets call cost is judged on the
    /// calling thread's own CPU time (what the frame loop's thread spends; its wall time also counts other threads that ran
    /// on the server's one core meanwhile).
    /// </summary>
    public static IReadOnlyList<TargetCheck> CheckPerFrame(ResultSet results)
    {
        const string Viz = Servers.ServerCatalog.VizHtml, Raw = "kestrel", Host = "hostapp-200x60hz-1024", Tablets = "fewtablets-5x90hz-200", Echo = "echo-1x64";
        var idle = results.IdleScenario;
        var idleCount = int.TryParse(idle["idle-".Length..], NumberStyles.None, Inv, out var n) ? n : 10_000;
        double? M(string scenario, string server, string metric) => results.Median(scenario, server, metric);
        return
        [
            AtMost("Host app (200 × 60 Hz × 1 KB): server CPU per delivery ≤ raw Kestrel's", M(Host, Viz, "cpu_us_per_delivery"), M(Host, Raw, "cpu_us_per_delivery"), "µs", "raw Kestrel's"),
            AtMost("Host app: delivery latency p99 ≤ raw Kestrel's", M(Host, Viz, "latency_p99_us"), M(Host, Raw, "latency_p99_us"), "µs", "raw Kestrel's"),
            AtMost("Echo, one client, 64 B: p50 ≤ raw Kestrel's", M(Echo, Viz, "rtt_p50_us"), M(Echo, Raw, "rtt_p50_us"), "µs", "raw Kestrel's"),
            AtMost("Echo, one client, 64 B: p99 ≤ raw Kestrel's", M(Echo, Viz, "rtt_p99_us"), M(Echo, Raw, "rtt_p99_us"), "µs", "raw Kestrel's"),
            AtMost("Few tablets (5 × 90 Hz × 200 B): SendAll on the calling thread, its CPU p99 ≤ 5 µs", M(Tablets, Viz, "call_cpu_p99_us"), 5, "µs", null),
            AtMost("Few tablets: SendAll on the calling thread, its CPU max ≤ 50 µs", M(Tablets, Viz, "call_cpu_max_us"), 50, "µs", null),
            AtMost("Few tablets: server CPU per delivery ≤ raw Kestrel's", M(Tablets, Viz, "cpu_us_per_delivery"), M(Tablets, Raw, "cpu_us_per_delivery"), "µs", "raw Kestrel's"),
            AtMost($"Idle memory at {idleCount:N0} connections ≤ raw Kestrel's", M(idle, Viz, "kb_per_conn"), M(idle, Raw, "kb_per_conn"), "KB", "raw Kestrel's"),
        ];
    }

    /// <summary>Issue 13: broadcast CPU per delivery with listeners on every VizHtml instrument and span within 3 % of none, same run.</summary>
    /// <summary>
    /// Issue 13's 3 % target. Judged on the interleaved comparison (bench/VizHtml.Micro --metrics-cost: one server process,
    /// listened and unlistened blocks back to back, the mean over rounds of their ratio) where it was run; else on the two
    /// server processes' medians, whose run-to-run spread is larger than what is judged.
    /// </summary>
    public static IReadOnlyList<TargetCheck> CheckMetrics(ResultSet results)
    {
        const string Off = Servers.ServerCatalog.VizHtml, On = Servers.ServerCatalog.VizHtmlMetrics;
        var checks = new List<TargetCheck>();
        var interleaved = results.Rows.Select(r => r.Row).Where(r => r.Metric == "cpu_ratio_listened" && r.Scenario.StartsWith("interleaved-", StringComparison.Ordinal)).ToList();
        foreach (var row in interleaved.OrderBy(r => ReportWriter.ScenarioOrder(r.Scenario.Replace("interleaved-", "broadcast-", StringComparison.Ordinal))))
        {
            var (mean, low, high) = GeometricMeanInterval(row.Values);
            var check = AtMost($"{row.Scenario}: server CPU per delivery listened to ÷ not, geometric mean of {row.Values.Length} rounds ≤ 1.03", mean, 1.03, "×", null);
            checks.Add(check with { Measured = $"{Number(mean)}× (95 % CI {Number(low)}–{Number(high)})" });
        }

        if (checks.Count > 0)
        {
            return checks;
        }

        foreach (var scenario in results.Rows.Select(r => r.Row.Scenario).Where(s => s.StartsWith("broadcast-", StringComparison.Ordinal)).Distinct().OrderBy(ReportWriter.ScenarioOrder))
        {
            checks.Add(AtMost($"{scenario}: server CPU per delivery with metrics and tracing listened to ≤ 1.03× without",
                results.Median(scenario, On, "cpu_us_per_delivery"), results.Median(scenario, Off, "cpu_us_per_delivery") * 1.03, "µs", "1.03× vizhtml's"));
        }

        return checks;
    }

    /// <summary>
    /// The geometric mean of ratios and its 95 % confidence interval: the mean and interval of their logarithms, taken
    /// back. A ratio of two noisy figures has an arithmetic mean above 1 even when they are equal; its logarithm does not.
    /// </summary>
    public static (double Mean, double Low, double High) GeometricMeanInterval(IReadOnlyList<double> ratios)
    {
        var (mean, low, high) = MeanInterval(ratios.Select(r => Math.Log(r)).ToArray());
        return (Math.Exp(mean), Math.Exp(low), Math.Exp(high));
    }

    /// <summary>The mean of <paramref name="values"/> and its 95 % confidence interval (Student's t).</summary>
    public static (double Mean, double Low, double High) MeanInterval(IReadOnlyList<double> values)
    {
        var n = values.Count;
        var mean = values.Average();
        if (n < 2)
        {
            return (mean, double.NaN, double.NaN);
        }

        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        // Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom; 1.96 beyond.
        double[] t = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
            2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042];
        var half = (n - 1 <= t.Length ? t[n - 2] : 1.96) * sd / Math.Sqrt(n);
        return (mean, mean - half, mean + half);
    }

    private static double ToKilobytes(double value, string unit) =>
        unit.Trim().ToUpperInvariant() switch
        {
            "B" or "BYTES" => value / 1024,
            "KIB" or "KB" => value,
            _ => value,
        };

    private static TargetCheck AtMost(string target, double? measured, double? bar, string unit, string? barName) =>
        Compare(target, measured, bar, unit, barName, lowerIsBetter: true);

    private static TargetCheck AtLeast(string target, double? measured, double? bar, string unit, string? barName) =>
        Compare(target, measured, bar, unit, barName, lowerIsBetter: false);

    /// <summary>Strictly below the bar.</summary>
    private static TargetCheck Below(string target, double? measured, double? bar, string unit, string? barName) =>
        Compare(target, measured, bar, unit, barName, lowerIsBetter: true, strict: true);

    private static TargetCheck Compare(string target, double? measured, double? bar, string unit, string? barName, bool lowerIsBetter, bool strict = false)
    {
        if (measured is not { } m)
        {
            return new TargetCheck(target, "not measured", bar is { } b0 ? Format(b0, unit) : "–", null, "–");
        }

        if (bar is not { } b)
        {
            return new TargetCheck(target, Format(m, unit), $"{barName ?? "peer"}: not measured", null, "–");
        }

        var met = strict ? (lowerIsBetter ? m < b : m > b) : lowerIsBetter ? m <= b : m >= b;
        var barText = Format(b, unit) + (barName is null ? string.Empty : $" ({barName})");
        var difference = Math.Abs(m - b);
        var relative = b == 0 ? string.Empty : $", {m / b:0.00}× the bar";
        var margin = met ? $"by {Format(difference, unit)}{relative}" : $"missed by {Format(difference, unit)}{relative}";
        return new TargetCheck(target, Format(m, unit), barText, met, margin);
    }

    public static string Format(double value, string unit) => unit switch
    {
        "/s" => $"{Number(value)}/s",
        "µs" => $"{Number(value)} µs",
        "%" or "% of a core" => $"{Number(value)} %",
        "KB" => $"{Number(value)} KB",
        "connections" => Number(value),
        _ => $"{Number(value)} {unit}".Trim(),
    };

    /// <summary>Three significant figures, thousands separated.</summary>
    public static string Number(double value)
    {
        if (double.IsNaN(value))
        {
            return "–";
        }

        var magnitude = Math.Abs(value);
        return magnitude >= 1000 ? Math.Round(value).ToString("N0", Inv)
            : magnitude >= 100 ? value.ToString("0", Inv)
            : magnitude >= 10 ? value.ToString("0.0", Inv)
            : magnitude >= 1 ? value.ToString("0.00", Inv)
            : value.ToString("0.000", Inv);
    }
}
