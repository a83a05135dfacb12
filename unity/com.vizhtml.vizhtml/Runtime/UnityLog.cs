using System;
using Microsoft.Extensions.Logging;
using UnityEngine;

namespace VizHtml.Unity
{
    /// <summary>VizHtml's log lines in Unity's console: warnings and errors (the access key is never in them).</summary>
    internal static class UnityLog
    {
        public static readonly ILoggerFactory Factory = new UnityLoggerFactory();

        private sealed class UnityLoggerFactory : ILoggerFactory
        {
            public ILogger CreateLogger(string categoryName) => new UnityLogger(categoryName);

            public void AddProvider(ILoggerProvider provider)
            {
            }

            public void Dispose()
            {
            }
        }

        private sealed class UnityLogger : ILogger
        {
            private readonly string _category;

            public UnityLogger(string category) => _category = category;

            public IDisposable BeginScope<TState>(TState state) => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception exception, Func<TState, Exception, string> formatter)
            {
                if (!IsEnabled(logLevel))
                {
                    return;
                }

                var text = _category + ": " + formatter(state, exception) + (exception == null ? string.Empty : "\n" + exception);

                // Unity's Debug methods may be called from any thread.
                if (logLevel >= LogLevel.Error)
                {
                    Debug.LogError(text);
                }
                else
                {
                    Debug.LogWarning(text);
                }
            }
        }
    }
}
