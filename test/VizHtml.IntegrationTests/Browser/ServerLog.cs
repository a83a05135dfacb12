using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>
/// Collects what the server logs at <see cref="LogLevel.Error"/> and above (a throwing handler, for one), so a test
/// can assert there was none and a failure message can show it. Pass <see cref="Factory"/> as the server's logger factory.
/// </summary>
public sealed class ServerLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _errors = new();

    public ServerLog() => Factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Error).AddProvider(this));

    public ILoggerFactory Factory { get; }

    public IReadOnlyList<string> Errors => _errors.ToArray();

    /// <summary>The errors as text for a failure message.</summary>
    public string Describe() => _errors.IsEmpty ? "The server logged no errors." : "The server logged:\n" + string.Join("\n", _errors);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _errors);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> errors) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                errors.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? string.Empty : "\n" + exception)}");
            }
        }
    }
}
