using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VizHtml.Security;

namespace VizHtml.Tests.Security;

public sealed class RedactingLoggerFactoryTests
{
    private const string Key = "Ab3Q!'()*%+&=#?/ ~@Cd4R-ü";

    private static readonly Action<ILogger, string, Exception?> LogGet = LoggerMessage.Define<string>(LogLevel.Information, default, "GET {Path}");

    [Fact]
    public void TheMessageItsValuesItsScopesAndItsExceptionAreRedactedAndKeepTheirShape()
    {
        var capture = new Capture();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace)), Key, ownsInner: true);
        var logger = factory.CreateLogger("Test");
        var url = new Uri("http://host/p/?key=" + Uri.EscapeDataString(Key));

        using (logger.BeginScope(new Dictionary<string, object?> { ["Referer"] = url.AbsoluteUri, ["Attempt"] = 3 }))
        {
            logger.LogError(Thrown(), "GET {Url} took {Elapsed} ms", url, 12);
        }

        var line = Assert.Single(capture.Lines);
        Assert.Equal("GET http://host/p/?key=*** took 12 ms", line.Message);
        Assert.Equal(new[] { "Url", "Elapsed", "{OriginalFormat}" }, line.Values.Select(v => v.Key));
        Assert.Equal("http://host/p/?key=***", line.Values[0].Value);
        Assert.Equal(12, line.Values[1].Value);
        Assert.Equal("GET {Url} took {Elapsed} ms", line.Values[2].Value);
        Assert.Contains("Referer:http://host/p/?key=*** Attempt:3", line.Scopes, StringComparison.Ordinal);

        var exception = Assert.IsType<RedactedException>(line.Exception);
        Assert.Equal("cannot open ***", exception.Message);
        Assert.StartsWith("System.InvalidOperationException: cannot open ***\n ---> System.ArgumentException: key=***", exception.ToString().ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains(nameof(Thrown), exception.StackTrace, StringComparison.Ordinal);
        Assert.DoesNotContain("Ab3Q", line.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ALineWithoutTheKeyIsPassedOnAsItWas()
    {
        var capture = new Capture();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(b => b.AddProvider(capture)), Key, ownsInner: true);
        var exception = new InvalidOperationException("nothing secret");

        factory.CreateLogger("Test").Log(LogLevel.Warning, new EventId(7), "plain state", exception, (s, _) => s);

        var line = Assert.Single(capture.Lines);
        Assert.Same("plain state", line.State);
        Assert.Same(exception, line.Exception);
        Assert.Equal(7, line.EventId.Id);
    }

    [Fact]
    public void NothingIsFormattedForALevelNoProviderWrites()
    {
        var capture = new Capture();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Warning)), Key, ownsInner: true);
        var formatted = 0;

        factory.CreateLogger("Test").Log(LogLevel.Debug, default, Key, null, (s, _) => { formatted++; return s; });

        Assert.Equal(0, formatted);
        Assert.Empty(capture.Lines);
    }

    [Theory]
    [InlineData(null, "GET /p/?key=abc")]
    [InlineData(Key, "GET /p/?key=***")]
    public void AddVizHtmlRedactsTheAppsOwnLinesOnceTheOptionsHaveAKey(string? key, string expected)
    {
        var capture = new Capture();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(capture));
        services.AddVizHtml(o => o.AccessKey = key);
        services.AddVizHtml();

        using (var provider = services.BuildServiceProvider())
        {
            var app = provider.GetRequiredService<ILoggerFactory>().CreateLogger("App");
            LogGet(app, "/p/?key=abc", null);
            var typed = provider.GetRequiredService<ILogger<RedactingLoggerFactoryTests>>();
            typed.LogInformation("GET /p/?key=abc");
        }

        Assert.Equal(new[] { expected, expected }, capture.Lines.Select(l => l.Message));
    }

    private static InvalidOperationException Thrown()
    {
        try
        {
            throw new InvalidOperationException("cannot open " + Key, new ArgumentException("key=wrong"));
        }
        catch (InvalidOperationException ex)
        {
            return ex;
        }
    }

    private sealed record Line(object? State, string Message, IReadOnlyList<KeyValuePair<string, object?>> Values, string Scopes, Exception? Exception, EventId EventId)
    {
        public override string ToString() => $"{Message} {string.Join(" ", Values)} {Scopes} {Exception}";
    }

    private sealed class Capture : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider? _scopes;

        public List<Line> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(Capture owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scopes = new List<string>();
                owner._scopes?.ForEachScope((scope, list) => list.Add(scope is IEnumerable<KeyValuePair<string, object?>> pairs
                    ? string.Join(" ", pairs.Select(p => $"{p.Key}:{p.Value}"))
                    : scope?.ToString() ?? string.Empty), scopes);
                var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
                owner.Lines.Add(new Line(state, formatter(state, exception), [.. values], string.Join(" => ", scopes), exception, eventId));
            }
        }
    }
}
