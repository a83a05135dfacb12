namespace VizHtml;

/// <summary>Which web server a <see cref="VizHtmlServer"/> of its own (not one mapped into an ASP.NET Core app) runs.</summary>
public enum VizHtmlHost
{
    /// <summary>Kestrel where this build of VizHtml has it (.NET 10), the standalone server otherwise (.NET Standard: Unity, Mono, game engines).</summary>
    Automatic,

    /// <summary>ASP.NET Core's Kestrel: the .NET 10 build only.</summary>
    Kestrel,

    /// <summary>
    /// VizHtml's own small HTTP/1.1 server with the runtime's WebSocket: for runtimes without ASP.NET Core (Unity, Mono,
    /// Godot, Stride, MonoGame). Same pages, protocol, checks and limits; no HTTP/2, no chunked request bodies.
    /// </summary>
    Standalone,
}
