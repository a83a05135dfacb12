using VizHtml.LoadGen.Protocols;

namespace VizHtml.LoadGen.Servers;

/// <summary>How to start one server under test and which protocol it speaks.</summary>
/// <param name="Name">Its name in results: vizhtml, vizhtml-standalone, vizhtml-mono, signalr, ws, socketio, bun, kestrel.</param>
/// <param name="Command">Executable, relative to the repository root when it contains a slash.</param>
/// <param name="Arguments">Arguments; paths are relative to the repository root.</param>
/// <param name="Project">A .csproj to build first when the first of <paramref name="Arguments"/> (a dll or exe) is missing.</param>
/// <param name="Environment">Variables set for the server besides PORT.</param>
internal sealed record ServerSpec(string Name, string Command, string[] Arguments, ProtocolAdapter Protocol, string? Project = null, IReadOnlyDictionary<string, string>? Environment = null)
{
    /// <summary>Another build or host of VizHtml itself (vizhtml-standalone, vizhtml-mono): reports compare it with vizhtml, not as a peer.</summary>
    public bool IsVizHtmlVariant => Name.StartsWith(ServerCatalog.VizHtml + "-", StringComparison.Ordinal);
}

/// <summary>Every server of the suite and where it lives: the one place to change a path or a command.</summary>
internal static class ServerCatalog
{
    public const string NodeFolder = "bench/servers/node";

    /// <summary>VizHtml on its default host on .NET 10: Kestrel. The name ratios and targets are computed for.</summary>
    public const string VizHtml = "vizhtml";

    /// <summary>VizHtml's own HTTP/1.1 server (VizHtmlHost.Standalone) on .NET 10: the same program as vizhtml.</summary>
    public const string VizHtmlStandalone = "vizhtml-standalone";

    /// <summary>VizHtml's .NET Standard build (so the standalone host) under Debian's Mono.</summary>
    public const string VizHtmlMono = "vizhtml-mono";

    /// <summary>
    /// The vizhtml program with a MeterListener on every VizHtml instrument and an ActivityListener on the VizHtml source
    /// (<c>VIZHTML_METRICS=listen</c>): issue 13's cost of metrics and tracing. Not in the default suite; the
    /// <c>metrics</c> command runs it beside vizhtml.
    /// </summary>
    public const string VizHtmlMetrics = "vizhtml-metrics";

    private static readonly ProtocolAdapter Plain = new PlainAdapter();

    /// <summary>In the order tables show them: VizHtml and its other hosts first, then the peers.</summary>
    public static IReadOnlyList<ServerSpec> All { get; } =
    [
        DotNet(VizHtml, "VizHtmlBenchServer", new VizHtmlAdapter()) with { Environment = new Dictionary<string, string> { ["VIZHTML_HOST"] = "kestrel" } },
        DotNet(VizHtmlStandalone, "VizHtmlBenchServer", new VizHtmlAdapter()) with { Environment = new Dictionary<string, string> { ["VIZHTML_HOST"] = "standalone" } },
        DotNet(VizHtmlMetrics, "VizHtmlBenchServer", new VizHtmlAdapter()) with { Environment = new Dictionary<string, string> { ["VIZHTML_HOST"] = "kestrel", ["VIZHTML_METRICS"] = "listen" } },
        new(VizHtmlMono, "mono", ["bench/servers/VizHtmlMonoBenchServer/bin/Release/net48/VizHtmlMonoBenchServer.exe"], new VizHtmlAdapter(),
            "bench/servers/VizHtmlMonoBenchServer/VizHtmlMonoBenchServer.csproj"),
        DotNet("signalr", "SignalRServer", new SignalRAdapter()),
        new("ws", "node", ["--expose-gc", $"{NodeFolder}/ws-server.mjs"], Plain),
        new("socketio", "node", ["--expose-gc", $"{NodeFolder}/socketio-server.mjs"], new SocketIoAdapter()),
        new("bun", $"{NodeFolder}/node_modules/.bin/bun", [$"{NodeFolder}/bun-server.mjs"], Plain),
        DotNet("kestrel", "KestrelServer", Plain),
    ];

    /// <summary>What a run without <c>--servers</c> starts: every server but the ones a command of their own compares.</summary>
    public static IEnumerable<string> Default => All.Select(s => s.Name).Where(n => n != VizHtmlMetrics);

    public static ServerSpec? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    private static ServerSpec DotNet(string name, string folder, ProtocolAdapter protocol) =>
        new(name, "dotnet", [$"bench/servers/{folder}/bin/Release/net10.0/{folder}.dll"], protocol, $"bench/servers/{folder}/{folder}.csproj");
}
