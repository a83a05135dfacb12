using Microsoft.Extensions.Time.Testing;
using VizHtml.Sessions;

namespace VizHtml.Tests.Sessions;

/// <summary>The broadcasts kept once for every away client: what a client that went away at a mark gets back.</summary>
public sealed class BroadcastLogTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void AClientGetsTheReliableBroadcastsAfterItsMarkInOrderAndTheNewestLatestValues()
    {
        var log = new BroadcastLog(maxCount: 100, maxBytes: 1 << 20, maxAge: TimeSpan.FromMinutes(2), _clock);
        log.Append(Bytes("r1"), VizDelivery.Reliable, "r");
        var mark = log.Position;
        log.Append(Bytes("r2"), VizDelivery.Reliable, "r");
        log.Append(Bytes("pose1"), VizDelivery.Latest, "pose");
        log.Append(Bytes("v"), VizDelivery.Volatile, "v");
        log.Append(Bytes("r3"), VizDelivery.Reliable, "r");
        log.Append(Bytes("pose2"), VizDelivery.Latest, "pose");

        var got = new Recorder();
        var end = log.CopyAfter(mark, ref got);

        Assert.Equal(["r2", "r3"], got.Reliable);
        Assert.Equal(["pose=pose2"], got.Latest);
        Assert.Equal(0, got.LostCount);
        Assert.Equal(log.Position, end);

        // From the end nothing is left; from the very start, r1 too.
        var none = new Recorder();
        log.CopyAfter(end, ref none);
        Assert.Empty(none.Reliable);
        Assert.Empty(none.Latest);
        var all = new Recorder();
        log.CopyAfter(default, ref all);
        Assert.Equal(["r1", "r2", "r3"], all.Reliable);
    }

    [Fact]
    public void ReliableBroadcastsDroppedByTheCountBoundAreCountedAsLostForExactlyTheClientsThatMissedThem()
    {
        var log = new BroadcastLog(maxCount: 3, maxBytes: 1 << 20, maxAge: TimeSpan.FromMinutes(2), _clock);
        var marks = new List<BroadcastLog.Mark> { log.Position };
        for (var i = 1; i <= 10; i++)
        {
            log.Append(Bytes($"r{i}"), VizDelivery.Reliable, "r");
            log.Append(Bytes($"l{i}"), VizDelivery.Latest, "l");
            marks.Add(log.Position);
        }

        // Kept: r8, r9, r10. A client that had seen r(k) lost r(k+1)..r7.
        for (var k = 0; k <= 10; k++)
        {
            var got = new Recorder();
            log.CopyAfter(marks[k], ref got);
            Assert.Equal(Math.Max(0, 7 - k), got.LostCount);
            Assert.Equal(Enumerable.Range(Math.Max(k, 7) + 1, 10 - Math.Max(k, 7)).Select(i => $"r{i}"), got.Reliable);
            Assert.Equal(k < 10 ? ["l=l10"] : [], got.Latest);
        }
    }

    [Fact]
    public void BroadcastsOlderThanTheAgeBoundAreLostAndTheByteBoundHoldsToo()
    {
        var log = new BroadcastLog(maxCount: 100, maxBytes: 10, maxAge: TimeSpan.FromSeconds(30), _clock);
        var start = log.Position;
        log.Append(Bytes("aaaa"), VizDelivery.Reliable, "r");
        _clock.Advance(TimeSpan.FromSeconds(20));
        log.Append(Bytes("bbbb"), VizDelivery.Reliable, "r");
        Assert.Equal(8, log.Bytes);

        // Past 10 bytes, the oldest goes.
        _clock.Advance(TimeSpan.FromSeconds(5));
        log.Append(Bytes("cccc"), VizDelivery.Reliable, "r");
        Assert.Equal(8, log.Bytes);

        // 11 s after "bbbb", 6 s after "cccc": both within the age bound.
        _clock.Advance(TimeSpan.FromSeconds(6));
        var got = new Recorder();
        log.CopyAfter(start, ref got);
        Assert.Equal(1, got.LostCount);
        Assert.Equal(["bbbb", "cccc"], got.Reliable);

        // 32 s after "bbbb", 27 s after "cccc": "bbbb" is too old now.
        _clock.Advance(TimeSpan.FromSeconds(21));
        var later = new Recorder();
        log.CopyAfter(start, ref later);
        Assert.Equal(2, later.LostCount);
        Assert.Equal(["cccc"], later.Reliable);
    }

    private static ReadOnlyMemory<byte> Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    private struct Recorder() : BroadcastLog.ITarget
    {
        public List<string> Reliable { get; } = [];

        public List<string> Latest { get; } = [];

        public long LostCount { get; private set; }

        public void Lost(long count) => LostCount += count;

        void BroadcastLog.ITarget.Reliable(ReadOnlyMemory<byte> payload) => Reliable.Add(System.Text.Encoding.UTF8.GetString(payload.Span));

        void BroadcastLog.ITarget.Latest(string eventName, ReadOnlyMemory<byte> payload) => Latest.Add($"{eventName}={System.Text.Encoding.UTF8.GetString(payload.Span)}");
    }
}
