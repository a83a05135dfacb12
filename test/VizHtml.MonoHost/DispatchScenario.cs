namespace VizHtml.MonoHost;

/// <summary>
/// A game loop's server (<see cref="VizDispatchMode.Manual"/>) under Mono: this program's main thread reads commands and
/// runs every handler itself. <c>pump</c> runs one frame, <c>frames N</c> runs N frames a few milliseconds apart;
/// a frame reports <c>PUMP BEGIN k</c>, the handlers it ran (the <c>tick</c> handler awaits a delay before it reports every tenth number, from 5) (<c>HANDLER &lt;event&gt; &lt;n&gt; thread=&lt;id&gt;</c>) and
/// <c>PUMP END k handled=&lt;count&gt;</c>. The main thread's id comes first as <c>MAIN thread=&lt;id&gt;</c>.
/// </summary>
[Scenario("dispatch")]
internal sealed class DispatchScenario : IScenario
{
    // Everything here runs synchronously on the thread that called it (Main's), as a game loop would: no await gives the
    // thread away, so the thread that reads the commands is the one that pumps.
    public Task RunAsync(ScenarioHost host)
    {
        var options = host.Options();
        options.Dispatch = VizDispatchMode.Manual;
        var server = new VizHtmlServer(options);
        try
        {
            server.OnConnect(e => host.Report($"HANDLER connect 0 thread={Environment.CurrentManagedThreadId}"));
            server.OnMessage("tick", async e =>
            {
                var n = e.Data.GetInt32();

                // Every tenth handler awaits: its continuation must come back to a later pump, on this thread, before the next tick runs.
                if (n % 10 == 5)
                {
                    await Task.Delay(20).ConfigureAwait(true);
                }

                host.Report($"HANDLER tick {n} thread={Environment.CurrentManagedThreadId}");
            });
            server.StartAsync().GetAwaiter().GetResult();
            host.Report("PORT " + server.Port);
            host.Report($"MAIN thread={Environment.CurrentManagedThreadId}");

            var frame = 0;
            while (Console.In.ReadLine() is { } line && line != "exit")
            {
                var words = line.Split(' ');
                var frames = words[0] switch
                {
                    "pump" => 1,
                    "frames" => int.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture),
                    _ => 0,
                };
                for (var i = 0; i < frames; i++)
                {
                    frame++;
                    host.Report($"PUMP BEGIN {frame}");
                    var handled = server.DispatchPending();
                    host.Report($"PUMP END {frame} handled={handled}");
                    if (i + 1 < frames)
                    {
                        Thread.Sleep(5);
                    }
                }

                host.Report($"DONE {line}");
            }
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        return Task.CompletedTask;
    }
}
