using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Time;

/// <summary>How long a version 2 client that lost its connection may come back, on a fake clock.</summary>
public sealed class ResumeTimeoutTests
{
    private static readonly TimeSpan ResumeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _clock = new();

    [Theory, OnOwnHosts]
    public async Task ASessionCutJustUnderTheResumeTimeoutAgoResumesWithEveryMissedEvent(TestHost host)
    {
        await using var test = await StartAsync(host);
        var (token, serverSide) = await ConnectAndCutAsync(test);
        Assert.Equal(0, test.Server.SendAll("missed", 1));

        // The maintenance that forgets sessions runs on the clock, inside Advance: by its return it has looked at this one.
        _clock.AdvanceInSteps(ResumeTimeout - Second, Second);
        Assert.Equal(1, test.Server.AwayCount);

        using var second = await Version2Socket.OpenAsync(test);
        var welcome = await Version2Socket.HelloAsync(second, token, lastSeq: 0);
        Assert.True(welcome["resumed"]!.GetValue<bool>());
        Assert.True(welcome["recovered"]!.GetValue<bool>());
        Assert.Equal(serverSide.Id, welcome["id"]!.GetValue<string>());
        var (name, data) = await second.ReceiveAsync();
        Assert.Equal(("missed", 1), (name, data!.GetValue<int>()));
    }

    [Theory, OnOwnHosts]
    public async Task ASessionCutLongerThanTheResumeTimeoutAgoIsForgottenAndItsTokenStartsAFreshOne(TestHost host)
    {
        await using var test = await StartAsync(host);
        var (token, serverSide) = await ConnectAndCutAsync(test);

        _clock.AdvanceInSteps(ResumeTimeout + Second, Second);
        Assert.Equal(0, test.Server.AwayCount);

        using var second = await Version2Socket.OpenAsync(test);
        var welcome = await Version2Socket.HelloAsync(second, token, lastSeq: 0);
        Assert.False(welcome["resumed"]!.GetValue<bool>());
        Assert.False(welcome["recovered"]!.GetValue<bool>());
        Assert.NotEqual(serverSide.Id, welcome["id"]!.GetValue<string>());
    }

    private Task<TestServer> StartAsync(TestHost host) => TestServer.StartAsync(host, o =>
    {
        o.TimeProvider = _clock;
        o.ResumeTimeout = ResumeTimeout;
    });

    /// <summary>Starts a session, then drops its socket without a close handshake, as a network failure would.</summary>
    private static async Task<(string Token, VizClient ServerSide)> ConnectAndCutAsync(TestServer test)
    {
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        using var _c = test.Server.OnConnect(connects.Add);
        using var _d = test.Server.OnDisconnect(disconnects.Add);
        using var first = await Version2Socket.OpenAsync(test);
        var token = (await Version2Socket.HelloAsync(first))["token"]!.GetValue<string>();
        var serverSide = (await connects.WaitForCountAsync(1))[0].Client;

        serverSide.Session.Connection.Abort();

        // The disconnect event is raised after the session was put away, at the clock's current time.
        Assert.True((await disconnects.WaitForCountAsync(1))[0].CanResume);
        Assert.Equal(1, test.Server.AwayCount);
        return (token, serverSide);
    }
}
