using System.Collections;
using System.Reflection;
using VizHtml.Http;

namespace VizHtml.Tests.Http;

public sealed class ConnectionLimitsTests
{
    [Fact]
    public void ConnectionsBeyondTheTotalCapAreRefusedWith503()
    {
        var limits = new ConnectionLimits(maxTotal: 3, maxPerAddress: 10);

        Assert.All(["10.0.0.1", "10.0.0.2", "10.0.0.3"], address => Assert.True(limits.TryAcquire(address, out _)));

        Assert.False(limits.TryAcquire("10.0.0.4", out var refusal));
        Assert.Equal(503, refusal.StatusCode);
        Assert.Contains("3", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConnectionsBeyondThePerAddressCapAreRefusedWith429WhileOtherAddressesStillGetIn()
    {
        var limits = new ConnectionLimits(maxTotal: 10, maxPerAddress: 2);
        Assert.True(limits.TryAcquire("10.0.0.1", out _));
        Assert.True(limits.TryAcquire("10.0.0.1", out _));

        Assert.False(limits.TryAcquire("10.0.0.1", out var refusal));
        Assert.Equal(429, refusal.StatusCode);
        Assert.True(limits.TryAcquire("10.0.0.2", out _));
    }

    [Fact]
    public void ARefusalForTheAddressTakesNoPlaceFromTheTotal()
    {
        var limits = new ConnectionLimits(maxTotal: 3, maxPerAddress: 1);
        Assert.True(limits.TryAcquire("a", out _));
        for (var i = 0; i < 5; i++)
        {
            Assert.False(limits.TryAcquire("a", out var refusal));
            Assert.Equal(429, refusal.StatusCode);
        }

        Assert.True(limits.TryAcquire("b", out _));
        Assert.True(limits.TryAcquire("c", out _));
        Assert.False(limits.TryAcquire("d", out var full));
        Assert.Equal(503, full.StatusCode);
    }

    [Fact]
    public void ReleaseGivesThePlaceBackInTheTotalAndForTheAddress()
    {
        var limits = new ConnectionLimits(maxTotal: 2, maxPerAddress: 1);
        Assert.True(limits.TryAcquire("a", out _));
        Assert.True(limits.TryAcquire("b", out _));
        Assert.False(limits.TryAcquire("c", out _));
        Assert.False(limits.TryAcquire("a", out _));

        limits.Release("a");

        Assert.True(limits.TryAcquire("a", out _));
        limits.Release("b");
        Assert.True(limits.TryAcquire("c", out _));
        Assert.False(limits.TryAcquire("d", out var refusal));
        Assert.Equal(503, refusal.StatusCode);
    }

    [Fact]
    public void TheTableKeepsNoEntryForAnAddressOnceItsLastConnectionIsReleased()
    {
        var limits = new ConnectionLimits(maxTotal: 100, maxPerAddress: 2);
        Assert.True(limits.TryAcquire("a", out _));
        Assert.True(limits.TryAcquire("a", out _));
        Assert.True(limits.TryAcquire("b", out _));
        Assert.False(limits.TryAcquire("a", out _));
        Assert.Equal(2, EntriesOf(limits));

        limits.Release("a");
        Assert.Equal(2, EntriesOf(limits));
        limits.Release("a");
        limits.Release("b");

        Assert.Equal(0, EntriesOf(limits));
    }

    [Fact]
    public void ConcurrentAcquireAndReleaseFromManyThreadsNeverExceedsACapAndEndsAtZero()
    {
        const int MaxTotal = 3;
        const int MaxPerAddress = 2;
        const int Threads = 8;
        var limits = new ConnectionLimits(MaxTotal, MaxPerAddress);
        string[] addresses = ["a", "b", "c"];
        var holding = new int[addresses.Length];
        var holdingTotal = 0;
        var refused = new int[600];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(Threads);

        // Dedicated threads, more than there are cores, so holders get preempted and the caps are actually contended.
        var threads = Enumerable.Range(0, Threads).Select(worker => new Thread(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(10));
            for (var i = 0; i < 20_000; i++)
            {
                var a = (i + (worker / 2)) % addresses.Length;
                if (!limits.TryAcquire(addresses[a], out var refusal))
                {
                    Interlocked.Increment(ref refused[refusal.StatusCode]);
                    continue;
                }

                // Counted by the test itself: what the limits let in at once never exceeds either cap.
                if (Interlocked.Increment(ref holding[a]) > MaxPerAddress | Interlocked.Increment(ref holdingTotal) > MaxTotal)
                {
                    failures.Enqueue($"over a cap: address {addresses[a]} {Volatile.Read(ref holding[a])}, total {Volatile.Read(ref holdingTotal)}");
                }

                Thread.SpinWait(50);
                Interlocked.Decrement(ref holdingTotal);
                Interlocked.Decrement(ref holding[a]);
                limits.Release(addresses[a]);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a worker did not finish"));

        Assert.Empty(failures);
        Assert.True(refused[503] + refused[429] > 0, "no acquire was ever refused: the run did not contend");
        Assert.Equal(0, EntriesOf(limits));

        // Every place came back: the full total can be taken again, and not one more.
        for (var i = 0; i < MaxTotal; i++)
        {
            Assert.True(limits.TryAcquire($"after-{i}", out _));
        }

        Assert.False(limits.TryAcquire("one-more", out var full));
        Assert.Equal(503, full.StatusCode);
    }

    /// <summary>How many addresses the per-address table holds (private state: no public member shows it).</summary>
    private static int EntriesOf(ConnectionLimits limits)
    {
        var field = typeof(ConnectionLimits).GetField("_byAddress", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("ConnectionLimits no longer keeps its per-address table in _byAddress; update this test.");
        return ((ICollection)field.GetValue(limits)!).Count;
    }
}
