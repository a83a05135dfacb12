using VizHtml.IntegrationTests.Faults;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Mono;

/// <summary>
/// Faults/ResumeUnderFaultsTests with the server under Mono (the <c>resume</c> scenario): the .NET 10 client reaches it
/// through a fault proxy that cuts the link a hundred times (sometimes mid-frame), stalls, slices and throttles it.
/// </summary>
public sealed class MonoResumeUnderFaultsTests
{
    private const int Events = 10_000;

    /// <summary>The server's default <see cref="VizHtmlOptions.ReplayBufferMessages"/>.</summary>
    private static readonly int ReplayWindow = new VizHtmlOptions().ReplayBufferMessages;

    private static readonly TimeSpan StreamTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task UnderMonoTenThousandEventsEachWayArriveExactlyOnceInOrderAcrossAHundredCuts()
    {
        await using var mono = await MonoProcess.StartAsync("resume", $"events={Events}");
        await using var proxy = new FaultProxy(mono.Port);
        var fromServer = new List<int>();
        var received = 0;
        var clientDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resumes = new EventLog<VizClientConnectionEvent>();
        await using var client = new VizHtmlClient(new Uri($"http://127.0.0.1:{proxy.Port}/"), new VizHtmlClientOptions
        {
            InitialReconnectDelay = TimeSpan.FromMilliseconds(10),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxPendingSends = Events,
        });
        client.OnMessage("s2c", e =>
        {
            // Handlers run one at a time, so the list needs no lock here.
            fromServer.Add(e.Data.GetInt32());
            Volatile.Write(ref received, fromServer.Count);
            if (fromServer.Count == Events)
            {
                clientDone.TrySetResult();
            }
        });
        client.OnConnectionChanged(resumes.Add);
        await client.StartAsync().WaitAsync(TestServer.Timeout);

        var next = 1;
        for (var round = 0; round < 100; round++)
        {
            var first = next;
            for (var i = 0; i < Events / 100; i++, next++)
            {
                client.Send("c2s", next);
            }

            await mono.SendAsync($"send {first} {next - 1}");

            // A cut right after each reconnect lets little of the replay through on a sliced or throttled link, and the
            // backlog grows past the replay window (1024 events), which makes a resume unrecoverable by design (see
            // AGapLongerThanTheReplayWindowIsReportedAsNotRecovered): keep the client within half a window before cutting.
            await TestServer.WaitUntilAsync(() => Volatile.Read(ref received) >= next - 1 - (ReplayWindow / 2) && client.IsConnected && proxy.LiveLinks > 0);
            await proxy.InjectAsync(round, () => mono.SendAsync("filler"));
        }

        await proxy.MakeUpCutsAndRunCleanAsync(100, () => client.IsConnected);
        var serverDone = mono.WaitForLineAsync(l => l == "C2S COMPLETE", StreamTimeout);
        await Task.WhenAny(Task.WhenAll(serverDone, clientDone.Task), Task.Delay(StreamTimeout));
        await mono.SendAsync("summary");
        var summary = await mono.WaitForLineAsync(l => l.StartsWith("SUMMARY ", StringComparison.Ordinal));
        Assert.True(
            serverDone.IsCompletedSuccessfully && clientDone.Task.IsCompleted,
            $"after {proxy.Cuts} cuts: the client has {fromServer.Count} of {Events} (last {fromServer.LastOrDefault()}), the Mono server: {summary}; client connected {client.IsConnected}, links {proxy.LiveLinks}, resumes {string.Join(",", resumes.Items.Select(e => $"{e.Connected}/{e.Resumed}/{e.Recovered}"))}; Mono's errors: {mono.Errors}");

        Assert.True(proxy.Cuts >= 100, $"only {proxy.Cuts} cuts");
        Assert.Equal(Enumerable.Range(1, Events), fromServer);
        Assert.StartsWith($"SUMMARY count={Events} last={Events} problem=none ", summary, StringComparison.Ordinal);
        Assert.All(resumes.Items.Where(e => e.Connected).Skip(1), e => Assert.True(e.Resumed && e.Recovered));
        Assert.Equal(0, client.DroppedSends);
    }
}
