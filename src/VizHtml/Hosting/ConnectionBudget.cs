using Microsoft.Extensions.Logging;

namespace VizHtml.Hosting;

/// <summary>
/// How many connections the embedded server takes so that the process never runs out of file descriptors: sockets
/// (VizHtml's own cap, refused with 503) and every other TCP connection (Kestrel's <c>MaxConcurrentConnections</c>,
/// closed as soon as it is accepted).
/// </summary>
/// <remarks>
/// Out of descriptors, the runtime cannot start a thread (each start takes a pipe), so the thread pool's next new worker
/// ends the process with an <see cref="OutOfMemoryException"/>; and Kestrel's accept loop takes EMFILE for a reset
/// connection and retries at once (tens of thousands of times in a few seconds), keeping a pool thread busy while work
/// queues up, so the pool does add workers. A server that stays below the limit refuses connections instead.
/// </remarks>
/// <param name="Sockets">The most sockets open at once.</param>
/// <param name="OtherConnections">The most TCP connections at once that are not sockets (page loads, idle connections).</param>
/// <param name="Backlog">The listen backlog: how many connections may wait to be accepted, so also how many a burst can
/// have accepted and not yet closed beyond the caps (Kestrel closes the ones over its cap after accepting them).</param>
/// <param name="FileLimit">The process's limit on open files, when known.</param>
/// <param name="OpenFiles">The files open when the budget was taken, when known.</param>
internal readonly record struct ConnectionBudget(int Sockets, int OtherConnections, int Backlog, long? FileLimit, int? OpenFiles)
{
    /// <summary>Kestrel's own default listen backlog.</summary>
    public const int DefaultBacklog = 512;

    /// <summary>Other connections allowed however low <see cref="VizHtmlOptions.MaxConnections"/> is: one tablet loads a page over several.</summary>
    public const int MinOtherConnections = 1_000;

    /// <summary>
    /// What stays free for everything else: a quarter of the room, at least 128 (Kestrel's start adds about 45 descriptors
    /// after the budget is taken; then thread starts, assembly loads, page files, logs, the program's own files).
    /// </summary>
    internal static int Reserve(long room) => (int)Math.Max(128, room / 4);

    /// <summary>The budget for <paramref name="options"/> in this process now.</summary>
    public static ConnectionBudget ForThisProcess(VizHtmlOptions options)
    {
        var (limit, open) = FileDescriptors();
        return For(options, limit, open);
    }

    /// <summary>
    /// At most <see cref="VizHtmlOptions.MaxConnections"/> sockets and as many other connections (at least
    /// <see cref="MinOtherConnections"/>), with Kestrel's backlog; with
    /// a known file limit, what is left after the <see cref="Reserve"/> goes an eighth to the backlog (16 to 512), then three
    /// quarters to sockets and the rest to other connections.
    /// </summary>
    public static ConnectionBudget For(VizHtmlOptions options, long? fileLimit, int? openFiles)
    {
        var sockets = options.MaxConnections;
        var other = Math.Max(options.MaxConnections, MinOtherConnections);
        var backlog = DefaultBacklog;
        if (fileLimit is { } limit && openFiles is { } open)
        {
            var room = Math.Max(0, limit - open);
            var usable = (int)Math.Min(int.MaxValue, Math.Max(0, room - Reserve(room)));
            backlog = Math.Clamp(usable / 8, 16, DefaultBacklog);
            var connections = Math.Max(2, usable - backlog);
            sockets = Math.Min(sockets, Math.Max(1, connections / 4 * 3));
            other = Math.Min(other, Math.Max(1, connections - sockets));
        }

        return new ConnectionBudget(sockets, other, backlog, fileLimit, openFiles);
    }

    /// <summary>Tells the program when the file limit holds VizHtml below <see cref="VizHtmlOptions.MaxConnections"/>.</summary>
    public static void WarnIfLow(ConnectionBudget budget, VizHtmlOptions options, ILogger logger)
    {
        if (budget.Sockets < options.MaxConnections)
        {
            logger.LogWarning(
                "This process may open {FileLimit} files and has {OpenFiles} open: VizHtml takes at most {Sockets} sockets (MaxConnections is {MaxConnections}) and {OtherConnections} other connections. Raise the limit (ulimit -n) for more.",
                budget.FileLimit, budget.OpenFiles, budget.Sockets, options.MaxConnections, budget.OtherConnections);
        }
    }

    /// <summary>The soft limit on open files and how many are open (Linux's /proc/self); nulls where that is not known or unlimited.</summary>
    private static (long? Limit, int? Open) FileDescriptors()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, null);
        }

        try
        {
            // "Max open files            1024                 524288               files"
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            var soft = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(3);
            if (!long.TryParse(soft, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit))
            {
                return (null, null);
            }

            return (limit, Directory.EnumerateFileSystemEntries("/proc/self/fd").Count());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, null);
        }
    }
}
