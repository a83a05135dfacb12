using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;
using VizHtml.IntegrationTests.Mono;
using Xunit.Sdk;

namespace VizHtml.IntegrationTests.Hosting;

/// <summary>Where a <see cref="PageServer"/> runs: the in-process hosts of <see cref="TestHost"/>, or the standalone host under Mono.</summary>
public enum PageHost
{
    Embedded,
    Mapped,
    Standalone,

    /// <summary>test/VizHtml.MonoHost's <c>pages</c> scenario: VizHtml's .NET Standard build and standalone host under Debian's Mono.</summary>
    Mono,
}

/// <summary>Runs a theory once per <see cref="PageHost"/> given (all of them when none is), the host first.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class OnPageHostsAttribute(params PageHost[] hosts) : DataAttribute
{
    public override IEnumerable<object?[]> GetData(MethodInfo testMethod) =>
        (hosts.Length == 0 ? Enum.GetValues<PageHost>() : hosts).Select(host => new object?[] { host });
}

/// <summary>
/// A server with a few pages and a socket, the same wherever it runs (test/VizHtml.MonoHost/PagesScenario.cs registers
/// the same): pages <c>p</c>, <c>a</c>, <c>b</c> and the form page <c>survey</c>; <see cref="Reports"/> gets
/// <c>early &lt;data&gt;</c> for each <c>early</c> message and <c>form</c> for each form submitted. In process its
/// deadlines run on a fake clock; under Mono they are real and short (<see cref="HandshakeTimeout"/>), and
/// <see cref="WaitUntilAsync"/> hides the difference.
/// </summary>
internal sealed class PageServer : IAsyncDisposable
{
    private static readonly TimeSpan FakeHandshakeTimeout = TimeSpan.FromSeconds(5);

    // Real time under Mono: short, so the few cases that wait for a deadline stay quick.
    private static readonly TimeSpan RealHandshakeTimeout = TimeSpan.FromSeconds(1);

    private readonly TestServer? _test;
    private readonly ProgramUnderTest? _mono;
    private readonly FakeTimeProvider? _clock;
    private readonly ServerLog? _log;
    private readonly Stopwatch _real = new();
    private TimeSpan _advanced;

    private PageServer(TestServer test, FakeTimeProvider clock, ServerLog log)
    {
        _test = test;
        _clock = clock;
        _log = log;
        test.Server.RegisterHtml("p", "<p>one</p>");
        test.Server.RegisterHtml("a", "<p>first</p>");
        test.Server.RegisterHtml("b", "<p>second</p>");
        test.Server.RegisterHtml("survey", "<form method=post></form>");
        test.Server.OnMessage("early", e => Reports.Add("early " + e.Data.ToJson()));
        test.Server.OnFormSubmit(_ => Reports.Add("form"));
    }

    private PageServer(ProgramUnderTest mono)
    {
        _mono = mono;
        Reports = mono.Lines;
    }

    public int Port => _test?.Port ?? _mono!.Port;

    /// <summary>The deadline for a request head, and for an idle kept-alive connection.</summary>
    public TimeSpan HandshakeTimeout => _mono is null ? FakeHandshakeTimeout : RealHandshakeTimeout;

    /// <summary>One step of <see cref="StepAsync"/>: a fifth of the deadline.</summary>
    public TimeSpan Step => HandshakeTimeout / 5;

    /// <summary>What the server reported (<c>early 1</c>, <c>form</c>).</summary>
    public EventLog<string> Reports { get; } = new();

    /// <summary>What the server logged (in process) or wrote to standard error (Mono), for a failure message.</summary>
    public string Diagnostics => _log?.Describe() ?? _mono!.Errors;

    public static async Task<PageServer> StartAsync(PageHost host)
    {
        if (host == PageHost.Mono)
        {
            return new PageServer(await MonoProcess.StartAsync("pages", "handshakeTimeoutMs=" + RealHandshakeTimeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)));
        }

        var clock = new FakeTimeProvider();
        var log = new ServerLog();
        var testHost = host switch { PageHost.Embedded => TestHost.Embedded, PageHost.Mapped => TestHost.Mapped, _ => TestHost.Standalone };
        var test = await TestServer.StartAsync(testHost, o =>
        {
            o.TimeProvider = clock;
            o.HandshakeTimeout = FakeHandshakeTimeout;
            o.LoggerFactory = log.Factory;
        });
        return new PageServer(test, clock, log);
    }

    /// <summary>Starts counting the time <see cref="Elapsed"/> reports.</summary>
    public void StartTiming()
    {
        _advanced = TimeSpan.Zero;
        _real.Restart();
    }

    /// <summary>Server time since <see cref="StartTiming"/>: the fake clock's advances, or real time under Mono.</summary>
    public TimeSpan Elapsed => _clock is null ? _real.Elapsed : _advanced;

    /// <summary>Lets one <see cref="Step"/> of server time pass (advancing the fake clock, or waiting), or less if <paramref name="until"/> completes.</summary>
    public async Task StepAsync(Task until)
    {
        if (_clock is null)
        {
            await Task.WhenAny(until, Task.Delay(Step));
            return;
        }

        _clock.Advance(Step);
        _advanced += Step;

        // Wall time for the server's own threads to act on the new time.
        await Task.WhenAny(until, Task.Delay(50));
    }

    /// <summary>Steps until <paramref name="until"/> completes or <paramref name="limit"/> of server time passed; returns the time it took.</summary>
    public async Task<TimeSpan> WaitUntilAsync(Task until, TimeSpan limit)
    {
        StartTiming();
        while (!until.IsCompleted && Elapsed < limit)
        {
            await StepAsync(until);
        }

        return Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        if (_test is not null)
        {
            await _test.DisposeAsync();
            _log!.Dispose();
        }

        if (_mono is not null)
        {
            Assert.False(_mono.HasExited, "The Mono pages scenario ended during the test: " + _mono.Errors);
            await _mono.DisposeAsync();
        }
    }
}
