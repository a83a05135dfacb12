using Microsoft.Extensions.Time.Testing;
using VizHtml.Diagnostics;
using VizHtml.Status;

namespace VizHtml.Tests.Status;

public sealed class StatusLogTests
{
    [Fact]
    public void TheRingKeepsTheNewestRefusalsNewestFirstWithTheirTime()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var log = new StatusLog(clock, capacity: 3);
        Assert.Empty(log.Refusals);

        for (var i = 1; i <= 5; i++)
        {
            log.Refused(RefusalRule.Origin, $"10.0.0.{i}");
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(["10.0.0.5", "10.0.0.4", "10.0.0.3"], log.Refusals.Select(r => r.Address));
        Assert.All(log.Refusals, r => Assert.Equal("origin", r.Rule));
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 9, TimeSpan.Zero), log.Refusals[0].At);
    }

    [Theory]
    [InlineData((int)RefusalRule.Host, "host")]
    [InlineData((int)RefusalRule.Key, "key")]
    [InlineData((int)RefusalRule.MaxConnectionsPerAddress, "max_connections_per_address")]
    [InlineData((int)RefusalRule.FormUploadTimeout, "form_upload_timeout")]
    public void ARuleIsNamedAsItsMetricTagNamesIt(int rule, string name) => Assert.Equal(name, StatusLog.RuleName((RefusalRule)rule));
}
