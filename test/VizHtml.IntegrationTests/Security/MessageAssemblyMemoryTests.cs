using VizHtml.IntegrationTests.Conformance;
using VizHtml.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static VizHtml.IntegrationTests.Infrastructure.ProcessMemory;

namespace VizHtml.IntegrationTests.Security;

/// <summary>
/// Issue 10's attack at the default limits: 60 connections from one address, each sending 16 fragments of 1 MiB and never
/// the last one. Measured on this process (server and clients both): its resident set, and its managed heap after a full
/// compacting collection without the pinned-object heap, where Kestrel keeps its transport blocks (up to 1 MiB of unread
/// input per connection, which Kestrel pools and evicts by itself; VizHtml allocates nothing pinned).
/// </summary>
[Collection("Memory")]
public sealed class MessageAssemblyMemoryTests(ITestOutputHelper output)
{
    private const int Attackers = 60;
    private const int Fragments = 16;
    private const int FragmentBytes = 1 << 20;

    /// <summary>What the process may hold beyond what the bounds say: runtime, Kestrel, the test's own clients.</summary>
    private const long Slack = 50 * MiB;

    /// <summary>
    /// The managed heap beyond the baseline: the shared pool's few pooled 64 KiB chunks, the clients' buffers, what the
    /// tests before this one in the collection left to finish. Measured +8 to +21 MiB; before the fix it was +3.3 GB.
    /// </summary>
    private const long HeapSlack = 32 * MiB;

    [Theory, OnOwnHosts]
    public async Task SixtyUnfinishedSixteenMiBMessagesFromOneAddressStayWithinItsShareAndTheMemoryComesBackWhenTheyClose(TestHost host)
    {
        var defaults = new VizHtmlOptions();
        await using var test = await TestServer.StartAsync(host);

        // The same two frames for every connection (one mask is as good as another), so the clients allocate nothing per send.
        var payload = new byte[FragmentBytes];
        Array.Fill(payload, (byte)'a');
        var first = FrameWriter.Frame(Opcode.Text, payload, fin: false);
        var next = FrameWriter.Frame(Opcode.Continuation, payload, fin: false);
        var baselineResident = ResidentAfterFullCollection();
        var baselineHeap = UnpinnedHeapAfterFullCollection();

        // The kernel's high-water mark: it misses no peak between samples.
        ResetPeakResident();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, Attackers).Select(_ => AttackAsync(test.Server.Port, first, next)));
        var peakGrowth = PeakResidentBytes() - baselineResident;
        var heldHeap = UnpinnedHeapAfterFullCollection() - baselineHeap;
        var refused = outcomes.Count(o => o.CloseCode == 1013);
        output.WriteLine($"{Attackers - refused} held, {refused} closed with 1013; resident set peak +{Format(peakGrowth)}, heap while held +{Format(heldHeap)}");

        foreach (var (wire, _) in outcomes)
        {
            wire.Dispose();
        }

        await TestServer.WaitUntilAsync(() => test.Server.ClientCount == 0);
        var (residentAfter, heapAfter) = await ReturnedWithinAsync(baselineResident, baselineHeap, TimeSpan.FromSeconds(5));
        output.WriteLine($"after they closed: resident set +{Format(residentAfter)}, heap +{Format(heapAfter)}");

        Assert.True(heldHeap <= defaults.MaxAssemblyBytesPerAddress + HeapSlack, $"the heap held {Format(heldHeap)} more during the attack; the address's share is {Format(defaults.MaxAssemblyBytesPerAddress)}");
        Assert.True(peakGrowth <= defaults.MaxAssemblyBytes + Slack, $"the resident set grew by {Format(peakGrowth)} at its peak; the budget is {Format(defaults.MaxAssemblyBytes)}");
        Assert.True(heapAfter <= HeapSlack, $"the heap still held {Format(heapAfter)} more 5 s after the connections closed");
        Assert.True(residentAfter <= Attackers * MiB + Slack, $"the resident set still held {Format(residentAfter)} more 5 s after the connections closed");
        Assert.True(refused > 0, "no connection was refused");
        Assert.Equal(Attackers, outcomes.Count(o => o.CloseCode is null or 1013));
    }

    /// <summary>Sends the unfinished message, then a ping: a pong means the server read all of it, a close that it refused.</summary>
    private static async Task<(WsWire Wire, int? CloseCode)> AttackAsync(int port, byte[] first, byte[] next)
    {
        var wire = await WsWire.ConnectAsync(port);
        await wire.SendIgnoringPeerCloseAsync(first);
        for (var i = 1; i < Fragments; i++)
        {
            await wire.SendIgnoringPeerCloseAsync(next);
        }

        await wire.SendIgnoringPeerCloseAsync(FrameWriter.Frame(Opcode.Ping, "all sent"u8));
        while (true)
        {
            var frame = await wire.ReadFrameAsync(TestServer.Timeout);
            switch (frame?.Opcode)
            {
                case Opcode.Pong:
                    return (wire, null);
                case Opcode.Close:
                    return (wire, frame.CloseCode);
                case null:
                    return (wire, -1);
            }
        }
    }

    /// <summary>Polls until both measures are back within their slack, or <paramref name="within"/> has passed; returns the last.</summary>
    private static async Task<(long Resident, long Heap)> ReturnedWithinAsync(long baselineResident, long baselineHeap, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var heap = UnpinnedHeapAfterFullCollection() - baselineHeap;
            var resident = ResidentBytes() - baselineResident;
            if ((heap <= HeapSlack && resident <= Attackers * MiB + Slack) || DateTime.UtcNow > deadline)
            {
                return (resident, heap);
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The managed heap after a full compacting collection, less the pinned-object heap (Kestrel's transport blocks).</summary>
    private static long UnpinnedHeapAfterFullCollection()
    {
        var heap = HeapAfterFullCollection();
        var generations = GC.GetGCMemoryInfo(GCKind.FullBlocking).GenerationInfo;
        return heap - generations[4].SizeAfterBytes;
    }
}
