using System.Diagnostics;
using VizHtml;

namespace WebSocketExample;

/// <summary>The example's behaviour, apart from the process around it so tests can run it on any server.</summary>
public static class WebSocketExampleApp
{
    /// <summary>The page name: the page is at /vizhtml/websocket/.</summary>
    public const string PageName = "websocket";

    /// <summary>Registers the page and the handlers that print connects, disconnects and clicks to <paramref name="output"/>.</summary>
    /// <returns>Dispose it to remove the handlers.</returns>
    public static IDisposable Attach(VizHtmlServer server, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.RegisterFile(PageName, Path.Combine(AppContext.BaseDirectory, "websocket.html"));

        // Handlers run one at a time on VizHtml's dispatcher, so writing to the console needs no lock.
        IDisposable[] subscriptions =
        [
            server.OnConnect(e => output.WriteLine($"CONNECT {e.Client.Address}")),
            server.OnDisconnect(e => output.WriteLine($"DISCONNECT {e.Client.Address}")),
            server.OnMessage("button_click", e =>
            {
                dynamic data = e.Data;
                int count = data.count;
                output.WriteLine($"BUTTON CLICK {count} from {e.Client.Address}");
            }),
        ];
        return new Subscriptions(subscriptions);
    }

    /// <summary>Sends <c>set_time</c> (seconds since start, one decimal) to every client every 0.1 s until cancelled.</summary>
    public static async Task RunClockAsync(VizHtmlServer server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var started = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(0.1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                server.SendAll("set_time", new { time = Math.Round(started.Elapsed.TotalSeconds, 1) });
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class Subscriptions(IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items)
            {
                item.Dispose();
            }
        }
    }
}
