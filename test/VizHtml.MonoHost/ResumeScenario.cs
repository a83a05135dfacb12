using System.Globalization;

namespace VizHtml.MonoHost;

/// <summary>
/// The server side of the resume-under-faults test under Mono: records every <c>c2s</c> number a client sends, and on
/// the command <c>send A B</c> sends <c>s2c</c> A..B to every client (<c>filler</c> sends one 2000-character
/// <c>s2c-filler</c>). <c>summary</c> reports <c>SUMMARY count=&lt;n&gt; last=&lt;n&gt; problem=&lt;first gap or duplicate, or none&gt;
/// clients=&lt;n&gt; away=&lt;n&gt;</c>; once <c>events=</c> numbers have arrived in order it reports <c>C2S COMPLETE</c> by itself.
/// </summary>
[Scenario("resume")]
internal sealed class ResumeScenario : IScenario
{
    public async Task RunAsync(ScenarioHost host)
    {
        var options = host.Options();
        options.CloseTimeout = TimeSpan.FromSeconds(1);

        // The stream is a burst; the default rate limit would only slow it down (numbered events are throttled, never dropped).
        options.MaxMessagesPerSecond = 1_000_000;
        var events = host.Setting("events", 10_000);
        await using var server = new VizHtmlServer(options);
        var gate = new object();
        var count = 0;
        var last = 0;
        string? problem = null;
        server.OnMessage("c2s", e =>
        {
            var n = e.Data.GetInt32();
            lock (gate)
            {
                if (problem is null && n != last + 1)
                {
                    problem = n <= last ? $"duplicate-{n}-after-{last}" : $"gap-{n}-after-{last}";
                }

                count++;
                last = n;
                if (count == events && problem is null)
                {
                    host.Report("C2S COMPLETE");
                }
            }
        });
        await server.StartAsync().ConfigureAwait(false);
        host.Report("PORT " + server.Port);

        await host.ReadCommandsAsync(line =>
        {
            var words = line.Split(' ');
            switch (words[0])
            {
                case "send":
                    for (var n = int.Parse(words[1], CultureInfo.InvariantCulture); n <= int.Parse(words[2], CultureInfo.InvariantCulture); n++)
                    {
                        server.SendAll("s2c", n);
                    }

                    host.Report($"SENT {words[2]}");
                    break;
                case "filler":
                    server.SendAll("s2c-filler", new string('x', 2000));
                    break;
                case "summary":
                    lock (gate)
                    {
                        host.Report($"SUMMARY count={count} last={last} problem={problem ?? "none"} clients={server.ClientCount} away={server.AwayCount}");
                    }

                    break;
            }

            return Task.CompletedTask;
        }).ConfigureAwait(false);
    }
}
