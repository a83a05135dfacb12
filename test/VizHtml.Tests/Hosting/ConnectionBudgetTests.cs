using VizHtml.Hosting;

namespace VizHtml.Tests.Hosting;

public sealed class ConnectionBudgetTests
{
    [Theory]
    [InlineData(null, null, 10_000, 10_000, 512)]
    [InlineData(1_048_576L, 150, 10_000, 10_000, 512)]
    [InlineData(20_000L, 150, 10_000, 4_376, 512)]
    [InlineData(1_024L, 150, 429, 145, 82)]
    [InlineData(512L, 109, 180, 61, 34)]
    [InlineData(256L, 150, 1, 1, 16)]
    public void SocketsOtherConnectionsAndTheBacklogStayInsideTheFileLimitWithAQuarterToSpare(long? fileLimit, int? openFiles, int sockets, int other, int backlog)
    {
        var budget = ConnectionBudget.For(new VizHtmlOptions(), fileLimit, openFiles);

        Assert.Equal((sockets, other, backlog), (budget.Sockets, budget.OtherConnections, budget.Backlog));
        if (fileLimit is { } limit && openFiles is { } open && limit - open > 300)
        {
            Assert.True(open + budget.Sockets + budget.OtherConnections + budget.Backlog + ConnectionBudget.Reserve(limit - open) <= limit);
        }
    }

    [Fact]
    public void WithAHighFileLimitTheOptionsCapSocketsAndAThousandOtherConnectionsAreLeftForPageLoads()
    {
        var budget = ConnectionBudget.For(new VizHtmlOptions { MaxConnections = 2 }, 65_536, 200);

        Assert.Equal((2, 1_000, 512), (budget.Sockets, budget.OtherConnections, budget.Backlog));
    }

    [Fact]
    public void ThisProcessHasABudgetOnLinux()
    {
        var budget = ConnectionBudget.ForThisProcess(new VizHtmlOptions());

        Assert.Equal(OperatingSystem.IsLinux(), budget.FileLimit is not null);
        Assert.Equal(OperatingSystem.IsLinux(), budget.OpenFiles > 0);
        Assert.InRange(budget.Sockets, 1, 10_000);
    }
}
