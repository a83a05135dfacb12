using System.Collections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace VizHtml.Security;

/// <summary>
/// Wraps a logger factory so that no log line, VizHtml's or the framework's (request lines carry query strings, a
/// referrer or a path may carry the key), ever contains the access key: its message, its structured values, its scopes
/// and its exception's text are redacted by a <see cref="KeyRedactor"/>.
/// </summary>
internal sealed class RedactingLoggerFactory : ILoggerFactory
{
    private readonly ILoggerFactory _inner;
    private readonly bool _ownsInner;

    /// <param name="inner">The factory that writes the lines.</param>
    /// <param name="secret">The access key.</param>
    /// <param name="ownsInner">Whether disposing this disposes <paramref name="inner"/> (it does when this made it).</param>
    public RedactingLoggerFactory(ILoggerFactory inner, string secret, bool ownsInner = false)
    {
        _inner = inner;
        _ownsInner = ownsInner;
        Redactor = new KeyRedactor(secret);
    }

    public KeyRedactor Redactor { get; }

    public ILogger CreateLogger(string categoryName) => new RedactingLogger(_inner.CreateLogger(categoryName), Redactor);

    public void AddProvider(ILoggerProvider provider) => _inner.AddProvider(provider);

    /// <summary>Disposes the inner factory only when this one made it; otherwise it belongs to the application or the server.</summary>
    public void Dispose()
    {
        if (_ownsInner)
        {
            _inner.Dispose();
        }
    }

    /// <summary>
    /// The factory to log through: <paramref name="factory"/> itself without a key, when it writes nothing, or when it
    /// already redacts this key (an app's factory that <c>AddVizHtml</c> wrapped).
    /// </summary>
    public static ILoggerFactory For(ILoggerFactory factory, string? key) =>
        string.IsNullOrEmpty(key) || factory is NullLoggerFactory || (factory is RedactingLoggerFactory redacting && redacting.Redactor.Secret == key)
            ? factory
            : new RedactingLoggerFactory(factory, key);

    private sealed class RedactingLogger(ILogger inner, KeyRedactor redactor) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull =>
            RedactedState.Of(state, state.ToString(), redactor) is { } redacted ? inner.BeginScope(redacted) : inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // Nothing is formatted for a line no provider writes (VizHtml's own LogDebug calls do not check first).
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }

            // The exception goes as it is unless its text holds the key; the state likewise.
            var redactedException = RedactedException.Of(exception, redactor) ?? exception;
            if (RedactedState.Of(state, formatter(state, exception), redactor) is { } redacted)
            {
                inner.Log(logLevel, eventId, redacted, redactedException, RedactedState.Format);
            }
            else
            {
                inner.Log(logLevel, eventId, state, redactedException, formatter);
            }
        }
    }
}

/// <summary>A log state or scope that held the key: its text and structured values with the key masked.</summary>
internal sealed class RedactedState(string text, KeyValuePair<string, object?>[] values) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public static readonly Func<RedactedState, Exception?, string> Format = static (state, _) => state.ToString();

    public int Count => values.Length;

    public KeyValuePair<string, object?> this[int index] => values[index];

    /// <summary>The state redacted, or null when neither its text nor any of its values held the key: then it goes on untouched.</summary>
    public static RedactedState? Of<TState>(TState state, string? text, KeyRedactor redactor)
    {
        var redactedText = text is null ? null : redactor.Redact(text);
        var leaked = !ReferenceEquals(redactedText, text);

        // Looked through without copying or allocating an enumerator where it can be: almost every line holds no key.
        if (!leaked && state is IReadOnlyList<KeyValuePair<string, object?>> list)
        {
            for (var i = 0; i < list.Count && !leaked; i++)
            {
                leaked = Redacted(list[i].Value, redactor) is not null;
            }
        }
        else if (!leaked && state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            leaked = pairs.Any(pair => Redacted(pair.Value, redactor) is not null);
        }

        if (!leaked)
        {
            return null;
        }

        var values = state is IEnumerable<KeyValuePair<string, object?>> all
            ? all.Select(pair => Redacted(pair.Value, redactor) is { } masked ? new KeyValuePair<string, object?>(pair.Key, masked) : pair).ToArray()
            : [];
        return new RedactedState(redactedText ?? string.Empty, values);
    }

    /// <summary>A value's text with the key masked, or null when it holds none (numbers and the like are not even looked at).</summary>
    private static string? Redacted(object? value, KeyRedactor redactor)
    {
        var text = value switch
        {
            null or bool or char or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal => null,
            Enum or DateTime or DateTimeOffset or TimeSpan or Guid => null,
            string s => s,
            IEnumerable items => string.Join(", ", items.Cast<object?>()),
            _ => value.ToString(),
        };
        if (text is null)
        {
            return null;
        }

        var redacted = redactor.Redact(text);
        return ReferenceEquals(redacted, text) ? null : redacted;
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => text;
}

/// <summary>
/// Stands in for an exception whose text held the key: the same message, stack trace and <see cref="ToString"/> (type
/// names and inner exceptions included), redacted. Its own type is this one, so the original is never reachable.
/// </summary>
internal sealed class RedactedException : Exception
{
    private readonly string _text;
    private readonly string? _stackTrace;

    private RedactedException(Exception original, string text, KeyRedactor redactor)
        : base(redactor.Redact(original.Message))
    {
        _text = text;
        _stackTrace = original.StackTrace is { } stack ? redactor.Redact(stack) : null;
        HResult = original.HResult;
        Source = original.Source;
    }

    public override string? StackTrace => _stackTrace;

    /// <summary>The exception redacted, or null when its text holds no key.</summary>
    public static RedactedException? Of(Exception? exception, KeyRedactor redactor)
    {
        if (exception is null)
        {
            return null;
        }

        var text = exception.ToString();
        var redacted = redactor.Redact(text);
        return ReferenceEquals(redacted, text) ? null : new RedactedException(exception, redacted, redactor);
    }

    public override string ToString() => _text;
}
