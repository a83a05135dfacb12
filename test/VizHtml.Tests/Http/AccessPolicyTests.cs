using VizHtml.Http;

namespace VizHtml.Tests.Http;

public sealed class AccessPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("192.168.1.20", true)]
    [InlineData("[::1]:8080", true)]
    [InlineData("localhost:8080", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("localhost.:8080", true)]
    [InlineData("lab-pc.example:8080", true)]
    [InlineData("attacker.example:8080", false)]
    [InlineData("attacker.example", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void HostNamesThatAreAddressesOrThisMachinesOrAllowedPass(string? host, bool allowed)
    {
        var policy = new AccessPolicy(new VizHtmlOptions { AllowedHosts = ["lab-pc.example"] });
        Assert.Equal(allowed, policy.IsHostAllowed(host));
    }

    [Fact]
    public void AStarAllowsAnyHostButStillNeedsOne()
    {
        var policy = new AccessPolicy(new VizHtmlOptions { AllowedHosts = ["*"] });
        Assert.True(policy.IsHostAllowed("attacker.example"));
        Assert.True(policy.IsHostAllowed(null));
    }

    [Fact]
    public void ThisMachinesOwnNameAndPublicHostAreAllowed()
    {
        var policy = new AccessPolicy(new VizHtmlOptions { PublicHost = "viz.lab" });
        Assert.True(policy.IsHostAllowed(System.Net.Dns.GetHostName() + ":80"));
        Assert.True(policy.IsHostAllowed(System.Net.Dns.GetHostName() + ".local"));
        Assert.True(policy.IsHostAllowed("viz.lab:8080"));
    }

    [Theory]
    [InlineData("name:8080", "name")]
    [InlineData("name", "name")]
    [InlineData("[::1]:8080", "[::1]")]
    [InlineData("[::1]", "[::1]")]
    [InlineData("10.0.0.1:1", "10.0.0.1")]
    public void HostNameDropsThePort(string host, string name) => Assert.Equal(name, AccessPolicy.HostName(host));

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("HTTP://127.0.0.1:8080", true)]
    [InlineData("https://127.0.0.1:8080", false)]
    [InlineData("http://127.0.0.1:9090", false)]
    [InlineData("http://evil.example", false)]
    [InlineData("http://dashboard.lab", true)]
    [InlineData("http://dashboard.lab/", false)]
    public void OnlyThisServersOwnOriginOrAnAllowedOneActs(string? origin, bool allowed)
    {
        var policy = new AccessPolicy(new VizHtmlOptions { AllowedOrigins = ["http://dashboard.lab/"] });
        Assert.Equal(allowed, policy.IsOriginAllowed(origin, "http", "127.0.0.1:8080"));
    }

    [Fact]
    public void WithoutAKeyEveryRequestHasOne()
    {
        var policy = new AccessPolicy(new VizHtmlOptions());
        Assert.True(policy.HasKey(null, null, null, out var fromQuery));
        Assert.False(fromQuery);
        Assert.Throws<InvalidOperationException>(() => policy.Key);
    }

    [Fact]
    public void TheKeyIsAcceptedFromTheQueryACookieOrAHeaderAndOnlyExactly()
    {
        var policy = new AccessPolicy(new VizHtmlOptions { AccessKey = "P@ss!wörd" });
        Assert.True(policy.HasKey(["P@ss!wörd"], null, null, out var fromQuery));
        Assert.True(fromQuery);
        Assert.True(policy.HasKey(null, "P@ss!wörd", null, out fromQuery));
        Assert.False(fromQuery);
        Assert.True(policy.HasKey(null, null, "P@ss!wörd", out _));
        Assert.False(policy.HasKey(["P@ss!wörd", "x"], null, null, out _));
        Assert.False(policy.HasKey(["p@ss!wörd"], null, null, out _));
        Assert.False(policy.HasKey(["P@ss!wörd "], null, null, out _));
        Assert.False(policy.HasKey([], "", "", out _));
        Assert.False(policy.HasKey(null, "wrong", "P@ss", out _));
        Assert.Equal("P@ss!wörd", policy.Key);
    }
}
