using Microsoft.Extensions.Time.Testing;
using VizHtml.Connections;
using static VizHtml.Connections.RateLimiter.Verdict;

namespace VizHtml.Tests.Connections;

/// <summary>The inbound token bucket, on a fake clock: time passes only when a test advances it.</summary>
public sealed class RateLimiterTests
{
    private const int Rate = 10;

    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void TakeAcceptsABurstOfTwiceTheRateThenDropsWithOneWarning()
    {
        var limiter = new RateLimiter(Rate, _clock);

        Assert.Equal(Enumerable.Repeat(Accept, 2 * Rate), Take(limiter, 2 * Rate));
        Assert.Equal([DropAndWarn, Drop, Drop], Take(limiter, 3));
    }

    [Fact]
    public void TakeRefillsAtTheRateAsTimePasses()
    {
        var limiter = new RateLimiter(Rate, _clock);
        Take(limiter, 2 * Rate);

        // A tenth of a second at ten a second is one message.
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal([Accept, Drop], Take(limiter, 2).Select(IgnoreWarning));

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Rate, AcceptedInARow(limiter));
    }

    [Fact]
    public void TakeRefillsNoFurtherThanTheBurstHoweverLongTheClientWasQuiet()
    {
        var limiter = new RateLimiter(Rate, _clock);
        Take(limiter, 2 * Rate);

        _clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(2 * Rate, AcceptedInARow(limiter));
    }

    [Fact]
    public void DropAndWarnComesAtMostOnceASecond()
    {
        var limiter = new RateLimiter(Rate, _clock);
        Take(limiter, 2 * Rate);
        Assert.Equal(DropAndWarn, limiter.Take());

        // Time refills a few tokens; what is dropped after them is still within the second of the last warning.
        _clock.Advance(TimeSpan.FromMilliseconds(999));
        AcceptedInARow(limiter, out var first);
        Assert.Equal(Drop, first);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        AcceptedInARow(limiter, out var second);
        Assert.Equal(DropAndWarn, second);
        Assert.Equal(Drop, limiter.Take());
    }

    [Fact]
    public void TenSecondsWorthOfExcessIsAbuse()
    {
        var limiter = new RateLimiter(Rate, _clock);
        Take(limiter, 2 * Rate);

        // Ten a second for ten seconds: a hundred dropped messages are tolerated, the next one is not.
        var verdicts = Take(limiter, (10 * Rate) + 1);

        Assert.All(verdicts.Take(10 * Rate), v => Assert.True(v is Drop or DropAndWarn, $"{v}"));
        Assert.Equal(Abuse, verdicts[^1]);
    }

    [Fact]
    public void ExcessDrainsAtTheRateSoAClientThatSlowsDownIsNotAbuse()
    {
        var limiter = new RateLimiter(Rate, _clock);
        Take(limiter, 2 * Rate);
        Assert.DoesNotContain(Abuse, Take(limiter, 10 * Rate));

        // One second drains ten of the excess and refills ten tokens: ten accepted, ten more dropped, then abuse again.
        _clock.Advance(TimeSpan.FromSeconds(1));
        var verdicts = Take(limiter, (2 * Rate) + 1);

        Assert.Equal(Enumerable.Repeat(Accept, Rate), verdicts.Take(Rate));
        Assert.Equal(Enumerable.Repeat(Drop, Rate), verdicts.Skip(Rate).Take(Rate).Select(IgnoreWarning));
        Assert.Equal(Abuse, verdicts[^1]);
    }

    [Fact]
    public void ReserveIsFreeForTheBurstThenAsksToWaitOneTokenLongerEachTime()
    {
        var limiter = new RateLimiter(Rate, _clock);

        Assert.All(Enumerable.Range(0, 2 * Rate).Select(_ => limiter.Reserve()), wait => Assert.Equal(TimeSpan.Zero, wait));
        Assert.Equal(0.1, limiter.Reserve().TotalSeconds, 6);
        Assert.Equal(0.2, limiter.Reserve().TotalSeconds, 6);
        Assert.Equal(0.3, limiter.Reserve().TotalSeconds, 6);
    }

    [Fact]
    public void ReserveWaitsShrinkAsTimePassesAndTheBurstComesBackAfterAQuietSpell()
    {
        var limiter = new RateLimiter(Rate, _clock);
        for (var i = 0; i < (2 * Rate) + 2; i++)
        {
            limiter.Reserve();
        }

        // Two tokens owed; two tenths of a second pay them back, so the next reservation waits for one token only.
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(0.1, limiter.Reserve().TotalSeconds, 6);

        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.All(Enumerable.Range(0, 2 * Rate).Select(_ => limiter.Reserve()), wait => Assert.Equal(TimeSpan.Zero, wait));
        Assert.True(limiter.Reserve() > TimeSpan.Zero);
    }

    private static RateLimiter.Verdict[] Take(RateLimiter limiter, int count) =>
        Enumerable.Range(0, count).Select(_ => limiter.Take()).ToArray();

    private static int AcceptedInARow(RateLimiter limiter) => AcceptedInARow(limiter, out _);

    /// <summary>Takes until a message is not accepted; returns how many were, and the verdict that ended the run.</summary>
    private static int AcceptedInARow(RateLimiter limiter, out RateLimiter.Verdict ended)
    {
        var accepted = 0;
        while ((ended = limiter.Take()) == Accept)
        {
            Assert.True(++accepted <= 2 * Rate, "more than a burst was accepted at once");
        }

        return accepted;
    }

    private static RateLimiter.Verdict IgnoreWarning(RateLimiter.Verdict verdict) => verdict == DropAndWarn ? Drop : verdict;
}
