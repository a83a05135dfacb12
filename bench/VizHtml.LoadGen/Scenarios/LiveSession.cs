using System.Globalization;
using VizHtml.LoadGen.Net;
using VizHtml.LoadGen.Results;
using VizHtml.LoadGen.Servers;

namespace VizHtml.LoadGen.Scenarios;

/// <summary>
/// A server process and the load generator's event loop, used together: whenever the suite waits for the server's
/// answer, the loop keeps running, so clients keep reading, acknowledging and answering pings.
/// </summary>
internal sealed class LiveSession(ServerProcess server, Reactor reactor, SuiteOptions options)
{
    public ServerProcess Server { get; } = server;

    public Reactor Reactor { get; } = reactor;

    /// <summary>Runs the loop for a while.</summary>
    public void Pump(TimeSpan duration) => Reactor.RunUntil(static () => false, duration);

    /// <summary>Sends a command and waits for its answer while the loop runs.</summary>
    public string Ask(string command, string prefix, TimeSpan timeout)
    {
        Server.Send(command);
        return AwaitAnswer(prefix, timeout);
    }

    public string AwaitAnswer(string prefix, TimeSpan timeout)
    {
        var deadline = Reactor.TimestampNs() + (long)(timeout.TotalMilliseconds * 1e6);
        while (true)
        {
            if (Server.TryReadLine(prefix, out var line))
            {
                return line;
            }

            if (Server.HasExited)
            {
                throw new InvalidOperationException($"{Server.Spec.Name} exited while answering '{prefix}'");
            }

            if (Reactor.TimestampNs() > deadline)
            {
                throw new TimeoutException($"{Server.Spec.Name}: no '{prefix}' answer within {timeout.TotalSeconds:0} s");
            }

            Reactor.Poll(2);
        }
    }

    /// <summary>Asks <c>clients</c> until the server counts <paramref name="expected"/>; returns its last count.</summary>
    public int WaitForClients(int expected, TimeSpan timeout)
    {
        var deadline = Reactor.TimestampNs() + (long)(timeout.TotalMilliseconds * 1e6);
        while (true)
        {
            var count = int.Parse(Ask("clients", "clients", TimeSpan.FromSeconds(30)).Split(' ')[1], CultureInfo.InvariantCulture);
            if (count == expected || Reactor.TimestampNs() > deadline)
            {
                return count;
            }

            Pump(TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>
    /// Opens up to <paramref name="count"/> more connections, <see cref="SuiteOptions.ConnectConcurrency"/> in flight,
    /// each counted once its protocol handshake is done. Stops starting new ones after
    /// <paramref name="stopAfterFailures"/> failures. Returns how many opened.
    /// </summary>
    public int Connect(int count, int stopAfterFailures)
    {
        var openBefore = Reactor.OpenCount;
        var failedBefore = Reactor.Failed;
        var started = 0;
        var lastProgress = Reactor.TimestampNs();
        var progress = -1;
        while (true)
        {
            var failed = Reactor.Failed - failedBefore;
            while (started < count && failed < stopAfterFailures && Reactor.Connecting < options.ConnectConcurrency)
            {
                if (!Reactor.Connect(Server.Spec.Protocol) && Reactor.LastFailure?.StartsWith("socket()", StringComparison.Ordinal) == true)
                {
                    // Out of file descriptors: nothing more can be opened.
                    started = count;
                    break;
                }

                started++;
                failed = Reactor.Failed - failedBefore;
            }

            if ((started >= count || failed >= stopAfterFailures) && Reactor.Connecting == 0)
            {
                return Reactor.OpenCount - openBefore;
            }

            Reactor.Poll(10);
            var done = Reactor.OpenCount + Reactor.Failed;
            if (done != progress)
            {
                progress = done;
                lastProgress = Reactor.TimestampNs();
            }
            else if (Reactor.TimestampNs() - lastProgress > 10_000_000_000L)
            {
                // Handshakes that never finish: give up on them.
                Reactor.CloseAll();
                Reactor.RunUntil(() => Reactor.Connecting == 0, TimeSpan.FromSeconds(1));
                return Reactor.OpenCount - openBefore;
            }
        }
    }

    /// <summary>Opens exactly <paramref name="count"/> clients and waits until the server counts them; false (noted) otherwise.</summary>
    public bool Open(int count, string scenario, ResultCollector results)
    {
        Reactor.ResetCounters();
        var opened = Connect(count, stopAfterFailures: 50);
        var serverCount = WaitForClients(count, TimeSpan.FromSeconds(20));
        if (opened == count && serverCount == count)
        {
            return true;
        }

        var reason = $"only {opened} of {count} clients connected (server counts {serverCount}; {Reactor.LastFailure ?? "no failure seen"})";
        Console.WriteLine($"   {scenario}: {reason}");
        results.Note(scenario, Server.Spec.Name, reason);
        CloseAll(scenario, results);
        return false;
    }

    /// <summary>Closes every client with a close handshake and waits until the server counts none.</summary>
    public void CloseAll(string scenario, ResultCollector results)
    {
        Reactor.CloseAll();
        Reactor.RunUntil(() => Reactor.Live == 0, TimeSpan.FromSeconds(10));
        Reactor.AbortAll();
        var left = WaitForClients(0, TimeSpan.FromSeconds(15));
        if (left != 0)
        {
            results.Note(scenario, Server.Spec.Name, $"server still counted {left} clients 15 s after they closed");
        }
    }
}
