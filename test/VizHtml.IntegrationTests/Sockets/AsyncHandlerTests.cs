using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>
/// <c>server.OnMessage("x", async e => ...)</c> binds to the <c>Func&lt;VizMessageEvent, ValueTask&gt;</c> overload: the
/// handler's completion is awaited (the next event waits for it, so order holds across awaits), and what it throws, before
/// or after an await, is logged while the process and the connection carry on.
/// </summary>
public sealed class AsyncHandlerTests
{
    private static readonly VizDispatchMode[] AllModes = [VizDispatchMode.Serialized, VizDispatchMode.SynchronizationContext, VizDispatchMode.Manual];

    private static readonly TestHost[] OwnHosts = [TestHost.Embedded, TestHost.Standalone];

    public static TheoryData<TestHost, VizDispatchMode> Modes()
    {
        var cases = new TheoryData<TestHost, VizDispatchMode>();
        foreach (var host in OwnHosts)
        {
            foreach (var mode in AllModes)
            {
                cases.Add(host, mode);
            }
        }

        return cases;
    }

    public static TheoryData<TestHost, VizDispatchMode, bool> ModesAndWhereItThrows()
    {
        var cases = new TheoryData<TestHost, VizDispatchMode, bool>();
        foreach (var host in OwnHosts)
        {
            foreach (var mode in AllModes)
            {
                cases.Add(host, mode, true);
                cases.Add(host, mode, false);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(ModesAndWhereItThrows))]
    public async Task AnAsyncHandlerThatThrowsIsLoggedAndTheConnectionStaysOpen(TestHost host, VizDispatchMode mode, bool afterAnAwait)
    {
        var logs = new CapturingLoggerProvider();
        var marker = Guid.NewGuid().ToString("N");
        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => unobserved.Enqueue(e.Exception);
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            var (test, dispatch) = await DispatchHost.StartAsync(host, mode, o => o.LoggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Warning)));
            using var _h = dispatch;
            await using var _t = test;
            var disconnects = new EventLog<VizDisconnectEvent>();
            test.Server.OnDisconnect(disconnects.Add);
            test.Server.OnMessage("boom", async e =>
            {
                if (afterAnAwait)
                {
                    await Task.Yield();
                    await Task.Delay(1);
                }

                throw new InvalidOperationException($"{marker} {e.Data.GetInt32()}");
            });
            test.Server.OnMessage("echo", e => e.Client.Send("echoed", e.Data.GetInt32()));

            using var client = await RawClient.ConnectAsync(test.SocketUri);
            for (var i = 1; i <= 3; i++)
            {
                await client.SendAsync("boom", i);
                await client.SendAsync("echo", i);

                // Handlers run in order, so the echo comes back after the throwing handler has completed.
                Assert.Equal(("echoed", i), await ReceiveIntAsync(client));
                IReadOnlyList<LogEntry> failures;
                try
                {
                    failures = await logs.Entries.WaitForAsync(entries => entries.Count(e => e.Exception?.Message.Contains(marker, StringComparison.Ordinal) == true) >= i);
                }
                catch (TimeoutException)
                {
                    Assert.Fail($"no log entry carries the exception handler 'boom' #{i} threw; logged: {string.Join(" | ", logs.Entries.Items.Select(e => $"{e.Level} {e.Message}"))}");
                    throw;
                }

                var failure = failures.Last(e => e.Exception?.Message.Contains(marker, StringComparison.Ordinal) == true);
                Assert.Equal(LogLevel.Error, failure.Level);
                Assert.Contains("boom", failure.Message, StringComparison.Ordinal);
                Assert.IsType<InvalidOperationException>(failure.Exception);
                Assert.Equal($"{marker} {i}", failure.Exception!.Message);
            }

            Assert.Equal(System.Net.WebSockets.WebSocketState.Open, client.Socket.State);
            Assert.Equal(1, test.Server.ClientCount);
            Assert.Empty(disconnects.Items);
        }
        finally
        {
            // Nothing a handler threw was left in an unobserved task (an async void handler would have taken the process down).
            GC.Collect();
            GC.WaitForPendingFinalizers();
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }

        Assert.DoesNotContain(unobserved, e => e.ToString().Contains(marker, StringComparison.Ordinal));
    }

    [Theory]
    [OnOwnHosts(1)]
    [OnOwnHosts(2)]
    public async Task AThousandEventsFromOneClientReachAnAwaitingHandlerInOrderOneAtATime(TestHost host, int protocol)
    {
        await AssertOrderedAndExclusiveAsync(host, VizDispatchMode.Serialized, protocol, count: 1000, async n =>
        {
            await Task.Yield();
            if (n % 100 == 0)
            {
                await Task.Delay(1);
            }
        });
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task InEveryDispatchModeAnAwaitingHandlerSeesEventsInOrderOneAtATime(TestHost host, VizDispatchMode mode)
    {
        await AssertOrderedAndExclusiveAsync(host, mode, protocol: 1, count: 100, async n =>
        {
            await Task.Yield();
            await Task.Delay(1);
        });
    }

    /// <summary>
    /// An async lambda is a <c>Func&lt;VizMessageEvent, ValueTask&gt;</c>, not an <c>async void</c> <c>Action</c>: the server waits
    /// for it, so the next event's handler starts only after the awaited delay has passed.
    /// </summary>
    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnAsyncLambdaIsAwaitedSoTheNextHandlerStartsAfterItsDelay(TestHost host, VizDispatchMode mode)
    {
        const int Count = 5;
        var delay = TimeSpan.FromMilliseconds(40);
        var (test, dispatch) = await DispatchHost.StartAsync(host, mode);
        using var _h = dispatch;
        await using var _t = test;
        var clock = Stopwatch.StartNew();
        var spans = new EventLog<(int N, TimeSpan Start, TimeSpan End)>();
        test.Server.OnMessage("x", async e =>
        {
            var start = clock.Elapsed;
            await Task.Delay(delay);
            spans.Add((e.Data.GetInt32(), start, clock.Elapsed));
        });

        using var client = await RawClient.ConnectAsync(test.SocketUri);
        for (var i = 0; i < Count; i++)
        {
            await client.SendAsync("x", i);
        }

        var all = await spans.WaitForCountAsync(Count);
        Assert.Equal(Enumerable.Range(0, Count), all.Select(s => s.N));
        for (var i = 1; i < Count; i++)
        {
            Assert.True(all[i].Start >= all[i - 1].End, $"handler {i} started at {all[i].Start.TotalMilliseconds:F1} ms, before handler {i - 1} ended at {all[i - 1].End.TotalMilliseconds:F1} ms");
        }

        // Five awaited delays one after the other: not the single delay that handlers running side by side would take.
        Assert.True(all[^1].End - all[0].Start >= delay * (Count - 1), $"the {Count} handlers took {(all[^1].End - all[0].Start).TotalMilliseconds:F1} ms in all");
    }

    private static async Task AssertOrderedAndExclusiveAsync(TestHost host, VizDispatchMode mode, int protocol, int count, Func<int, Task> awaitSomething)
    {
        var (test, dispatch) = await DispatchHost.StartAsync(host, mode, o => o.MaxMessagesPerSecond = 1_000_000);
        using var _h = dispatch;
        await using var _t = test;
        var running = 0;
        var mostAtOnce = 0;
        var wrongThread = 0;
        var recorded = new EventLog<int>();
        test.Server.OnMessage("n", async e =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostAtOnce, now);
            var n = e.Data.GetInt32();
            await awaitSomething(n);
            if (dispatch.HandlerThreadId is { } id && id != Environment.CurrentManagedThreadId)
            {
                Volatile.Write(ref wrongThread, 1);
            }

            recorded.Add(n);
            Interlocked.Decrement(ref running);
        });

        using var client = await ProtocolClient.ConnectAsync(test, protocol);
        for (var i = 1; i <= count; i++)
        {
            await client.SendAsync("n", i);
        }

        var all = await recorded.WaitForCountAsync(count, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(1, count), all);
        Assert.Equal(1, Volatile.Read(ref mostAtOnce));
        Assert.True(wrongThread == 0, $"a continuation ran off the thread {mode} dispatch promises");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static async Task<(string Event, int Value)> ReceiveIntAsync(RawClient client)
    {
        var (name, data) = await client.ReceiveAsync();
        return (name, data!.GetValue<int>());
    }

    private sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception);

    /// <summary>Keeps every log entry, so a test can await the one it expects.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public EventLog<LogEntry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider.Entries.Add(new LogEntry(category, logLevel, formatter(state, exception), exception));
        }
    }
}
