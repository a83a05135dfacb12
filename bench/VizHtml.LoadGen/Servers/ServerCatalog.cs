using VizHtml.LoadGen.Protocols;

namespace VizHtml.LoadGen.Servers;

/// <summary>How to start one server under test and which protocol it speaks.</summary>
/// <param name="Name">Its name in results: vizhtml, signalr, ws, socketio, bun, kestrel.</param>
/// <param name="Command">Executable, relative to the repository root when it contains a slash.</param>
/// <param name="Arguments">Arguments; paths are relative to the repository root.</param>
/// <param name="Project">A .csproj to build first when <paramref name="Arguments"/> names a dll that is missing.</param>
internal sealed record ServerSpec(string Name, string Command, string[] Arguments, ProtocolAdapter Protocol, string? Project = null);

/// <summary>Every server of the suite and where it lives: the one place to change a path or a command.</summary>
internal static class ServerCatalog
{
    public const string NodeFolder = "bench/servers/node";

    private static readonly ProtocolAdapter Plain = new PlainAdapter();

    /// <summary>In the order tables show them: VizHtml first, then the peers.</summary>
    public static IReadOnlyList<ServerSpec> All { get; } =
    [
        DotNet("vizhtml", "VizHtmlBenchServer", new VizHtmlAdapter()),
        DotNet("signalr", "SignalRServer", new SignalRAdapter()),
        new("ws", "node", ["--expose-gc", $"{NodeFolder}/ws-server.mjs"], Plain),
        new("socketio", "node", ["--expose-gc", $"{NodeFolder}/socketio-server.mjs"], new SocketIoAdapter()),
        new("bun", $"{NodeFolder}/node_modules/.bin/bun", [$"{NodeFolder}/bun-server.mjs"], Plain),
        DotNet("kestrel", "KestrelServer", Plain),
    ];

    public static ServerSpec? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    private static ServerSpec DotNet(string name, string folder, ProtocolAdapter protocol) =>
        new(name, "dotnet", [$"bench/servers/{folder}/bin/Release/net10.0/{folder}.dll"], protocol, $"bench/servers/{folder}/{folder}.csproj");
}
