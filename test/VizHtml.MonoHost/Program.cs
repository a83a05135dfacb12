using System.Reflection;

namespace VizHtml.MonoHost;

/// <summary>
/// Runs one scenario: <c>mono VizHtml.MonoHost.exe &lt;scenario&gt; [name=value ...]</c>. Each scenario starts a VizHtml
/// server, prints <c>PORT &lt;n&gt;</c> once it listens, reports what it sees as lines on standard output (the test reads
/// them) and takes commands as lines on standard input; it ends when standard input closes or says <c>exit</c>.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: VizHtml.MonoHost <scenario> [name=value ...]; scenarios: " + string.Join(", ", Scenarios().Keys));
            return 2;
        }

        if (!Scenarios().TryGetValue(args[0], out var type))
        {
            Console.Error.WriteLine($"no scenario {args[0]}; scenarios: {string.Join(", ", Scenarios().Keys)}");
            return 2;
        }

        var settings = args.Skip(1).Select(a => a.Split(['='], 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty, StringComparer.Ordinal);
        var scenario = (IScenario)Activator.CreateInstance(type)!;
        var host = new ScenarioHost(settings);
        await scenario.RunAsync(host).ConfigureAwait(false);
        return 0;
    }

    private static Dictionary<string, Type> Scenarios() =>
        typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IScenario).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
            .ToDictionary(t => t.GetCustomAttribute<ScenarioAttribute>()?.Name ?? t.Name, t => t, StringComparer.Ordinal);
}

/// <summary>One thing the tests run under Mono.</summary>
internal interface IScenario
{
    Task RunAsync(ScenarioHost host);
}

/// <summary>The name a test starts a scenario by.</summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class ScenarioAttribute(string name) : Attribute
{
    public string Name => name;
}

/// <summary>What a scenario shares with the test: settings from the command line, report lines out, command lines in.</summary>
internal sealed class ScenarioHost(Dictionary<string, string> settings)
{
#pragma warning disable CA1822 // Instance members: a scenario reaches everything it shares with the test through its host.
    private static readonly object Gate = new();

    public string Setting(string name, string fallback) => settings.TryGetValue(name, out var value) ? value : fallback;

    public int Setting(string name, int fallback) => settings.TryGetValue(name, out var value) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>Options every scenario starts from: the port from <c>port=</c> (0 by default), loopback, quiet logs.</summary>
    public VizHtmlOptions Options() => new()
    {
        Port = Setting("port", 0),
        BindAddress = System.Net.IPAddress.Loopback,
        CloseTimeout = TimeSpan.FromMilliseconds(Setting("closeTimeoutMs", 2000)),
        ShutdownTimeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>Writes one report line (whole, flushed at once, from any thread).</summary>
    public void Report(string line)
    {
        lock (Gate)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    /// <summary>Lines from the test, until standard input closes or says <c>exit</c>.</summary>
    public async Task ReadCommandsAsync(Func<string, Task> handle)
    {
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line && line != "exit")
        {
            await handle(line).ConfigureAwait(false);
        }
    }
#pragma warning restore CA1822
}
