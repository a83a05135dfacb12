using Microsoft.Extensions.Logging;

namespace VizHtml.MonoHost;

/// <summary>
/// The server with System.Text.Json's reflection switched off, as code stripped by IL2CPP may leave it: VizData, the
/// handshake, the served script and every internal message must not need it. Reports warnings and errors as <c>LOG</c>
/// lines; <c>set {"x":n}</c> is answered with <c>got {"x":n,"list":[1,2]}</c>; the command <c>broadcast n</c> sends <c>b {"n":n}</c> to all.
/// </summary>
[Scenario("noreflection")]
internal sealed class NoReflectionScenario : IScenario
{
    public async Task RunAsync(ScenarioHost host)
    {
        // Read by System.Text.Json once, at its first use: before anything touches it.
        AppContext.SetSwitch("System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault", false);
        var options = host.Options();
        options.LoggerFactory = new ReportingLoggerFactory(host);
        await using var server = new VizHtmlServer(options);
        server.OnMessage("set", e => e.Client.Send("got", new VizData { ["x"] = e.Data["x"].GetInt32(), ["list"] = new[] { 1, 2 } }));
        await server.StartAsync().ConfigureAwait(false);
        host.Report("PORT " + server.Port);
        await host.ReadCommandsAsync(command =>
        {
            if (command.StartsWith("broadcast ", StringComparison.Ordinal))
            {
                server.SendAll("b", new VizData { ["n"] = int.Parse(command.Substring(10), System.Globalization.CultureInfo.InvariantCulture) });
            }

            return Task.CompletedTask;
        }).ConfigureAwait(false);
    }

    private sealed class ReportingLoggerFactory(ScenarioHost host) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new ReportingLogger(host, categoryName);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class ReportingLogger(ScenarioHost host, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                host.Report($"LOG {logLevel} {category}: {formatter(state, exception)} {exception}".Replace('\n', ' '));
            }
        }
    }
}
