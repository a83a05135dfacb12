namespace VizHtml;

/// <summary>Where handlers (message, connect, disconnect) run.</summary>
public enum VizDispatchMode
{
    /// <summary>
    /// One at a time, in arrival order, on thread-pool threads (when no other handler is running, on the one that read
    /// the message, which saves a thread hop), so handlers need no locks among themselves. The default.
    /// </summary>
    Serialized,

    /// <summary>
    /// Posted to a <see cref="System.Threading.SynchronizationContext"/>: the one in
    /// <see cref="VizHtmlOptions.SynchronizationContext"/>, else the one current when the server was created
    /// (a WinForms, WPF or Avalonia UI thread).
    /// </summary>
    SynchronizationContext,

    /// <summary>Queued until the host calls <see cref="VizHtmlServer.DispatchPending(int)"/> from its own loop (a game or render loop).</summary>
    Manual,
}
