using Microsoft.Extensions.Logging;

namespace VizHtml.Security;

/// <summary>
/// Wraps the host's logger factory so that no log line, VizHtml's or the framework's (request lines carry query
/// strings), ever contains the access key.
/// </summary>
internal sealed class RedactingLoggerFactory(ILoggerFactory inner, string secret) : ILoggerFactory
{
    private const string Mask = "***";

    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), secret);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The inner factory belongs to the application or to the server; it is disposed there.
    public void Dispose()
    {
    }

    private sealed class RedactingLogger(ILogger inner, string secret) : ILogger
    {
        private readonly string _escaped = Uri.EscapeDataString(secret);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            var leaks = Leaks(message) || (state is IEnumerable<KeyValuePair<string, object?>> values && values.Any(v => Leaks(v.Value?.ToString())));
            if (!leaks)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }

            // Structured values are dropped with the key: a provider that writes them separately could leak it.
            var redacted = message.Replace(secret, Mask, StringComparison.Ordinal).Replace(_escaped, Mask, StringComparison.Ordinal);
            inner.Log(logLevel, eventId, redacted, exception, static (text, _) => text);
        }

        private bool Leaks(string? text) =>
            text is not null && (text.Contains(secret, StringComparison.Ordinal) || text.Contains(_escaped, StringComparison.Ordinal));
    }
}
