using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.BrowserResume;
using VizHtml.IntegrationTests.Faults;
using VizHtml.IntegrationTests.Infrastructure;
using VizHtml.IntegrationTests.Time;

namespace VizHtml.IntegrationTests.BrowserRequests;

/// <summary>
/// <c>VizClient.RequestAsync</c> in Chromium against <c>socket.onrequest(name, fn)</c>: answers by a promise or a value,
/// errors, no handler, timeout on the server's clock, and the answer across a forced reconnect (exactly once) or a lost session.
/// </summary>
public sealed class ServerToPageRequestTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    public sealed record Confirm(string Question);

    public sealed record Answer(bool Ok, string Echo);

    [Theory]
    [OnEveryHost]
    public async Task ThePageAnswersWithAPromiseOrAValueAndItsErrorsAndMissingHandlersComeBackAsCodes(TestHost host)
    {
        await using var server = await StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, server.HttpBase);
        var client = (await connects.WaitForCountAsync(1))[0].Client;
        await RequestPage.AnswerAsync(page, "confirm", "e => new Promise(resolve => setTimeout(() => resolve({ ok: true, echo: e.data.question }), 10))");
        await RequestPage.AnswerAsync(page, "double", "e => e.data * 2");
        await RequestPage.AnswerAsync(page, "broken", "e => { throw new Error('the form is incomplete'); }");
        await RequestPage.AnswerAsync(page, "refuse", "e => Promise.reject(new viz.RequestError('declined', 'the experimenter said no'))");

        var answer = await client.RequestAsync<Answer>("confirm", new Confirm("continue?")).WaitAsync(TestServer.Timeout);
        var doubled = await client.RequestAsync<int>("double", 21).WaitAsync(TestServer.Timeout);
        var broken = await Assert.ThrowsAsync<VizRequestException>(() => client.RequestAsync<int>("broken").WaitAsync(TestServer.Timeout));
        var refused = await Assert.ThrowsAsync<VizRequestException>(() => client.RequestAsync<int>("refuse").WaitAsync(TestServer.Timeout));
        var nobody = await Assert.ThrowsAsync<VizRequestException>(() => client.RequestAsync<int>("nobody").WaitAsync(TestServer.Timeout));
        var shape = await Assert.ThrowsAsync<VizRequestException>(() => client.RequestAsync<int>("confirm", new Confirm("x")).WaitAsync(TestServer.Timeout));

        Assert.Equal(new Answer(true, "continue?"), answer);
        Assert.Equal(42, doubled);
        Assert.Equal(("handler_error", "the form is incomplete"), (broken.Code, broken.Message));
        Assert.Equal(("declined", "the experimenter said no"), (refused.Code, refused.Message));
        Assert.Equal("no_handler", nobody.Code);
        Assert.Equal("invalid_data", shape.Code);
        Assert.Equal(5, await ResumePage.EvalAsync<int>(page, "window.asked"));

        // Requests reach neither onevent('*') nor a handler of the same name.
        Assert.Equal(0, await ResumePage.EvalAsync<int>(page, "window.received.length"));
    }

    [Theory]
    [OnEveryHost]
    public async Task ARequestThePageDoesNotAnswerInTimeFailsWithTimeoutOnTheServersClock(TestHost host)
    {
        var clock = new FakeTimeProvider();
        await using var server = await StartAsync(host, o => o.TimeProvider = clock);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, server.HttpBase);
        var client = (await connects.WaitForCountAsync(1))[0].Client;
        await RequestPage.AnswerAsync(page, "never", "e => new Promise(() => {})");

        var pending = client.RequestAsync<int>("never", null, TimeSpan.FromSeconds(5));
        await ResumePage.WaitAsync(page, "window.asked === 1");
        Assert.False(pending.IsCompleted);
        await clock.AdvanceUntilAsync(pending.ContinueWith(_ => { }, TaskScheduler.Default), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));

        Assert.Equal("timeout", (await Assert.ThrowsAsync<VizRequestException>(() => pending)).Code);
    }

    [Theory]
    [OnEveryHost]
    public async Task ARequestSentWhileThePageIsCutOffIsAnsweredExactlyOnceAfterTheResume(TestHost host)
    {
        await using var server = await StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        server.Server.OnConnect(connects.Add);
        server.Server.OnDisconnect(disconnects.Add);
        await using var proxy = new FaultProxy(server.Server.Port);
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, proxy.HttpBase);
        var client = (await connects.WaitForCountAsync(1))[0].Client;
        await RequestPage.AnswerAsync(page, "double", "e => e.data * 2");

        proxy.GoDown();
        await disconnects.WaitForCountAsync(1);
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        var pending = client.RequestAsync<int>("double", 8);
        proxy.GoUp();

        Assert.Equal(16, await pending.WaitAsync(TestServer.Timeout));
        Assert.True((await connects.WaitForCountAsync(2))[1].Recovered);

        // The page's answer was acknowledged and is never replayed: a second cut changes nothing.
        proxy.GoDown();
        await disconnects.WaitForCountAsync(2);
        proxy.GoUp();
        await connects.WaitForCountAsync(3);
        Assert.Equal(21, await client.RequestAsync<int>("double", 10.5).WaitAsync(TestServer.Timeout));
        Assert.Equal(2, await ResumePage.EvalAsync<int>(page, "window.asked"));
    }

    [Theory]
    [OnEveryHost]
    public async Task ARequestFailsWithSessionLostWhenThePageClosesOrMissedItInAResumeWithoutRecovery(TestHost host)
    {
        await using var server = await StartAsync(host, o => o.ReplayBufferMessages = 5);
        var connects = new EventLog<VizConnectEvent>();
        var disconnects = new EventLog<VizDisconnectEvent>();
        server.Server.OnConnect(connects.Add);
        server.Server.OnDisconnect(disconnects.Add);
        await using var proxy = new FaultProxy(server.Server.Port);
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, proxy.HttpBase);
        var client = (await connects.WaitForCountAsync(1))[0].Client;
        await RequestPage.AnswerAsync(page, "double", "e => e.data * 2");
        await RequestPage.AnswerAsync(page, "never", "e => new Promise(() => {})");

        // Asked while away and pushed out of the replay buffer: the page never sees it.
        proxy.GoDown();
        await disconnects.WaitForCountAsync(1);
        await ResumePage.WaitAsync(page, "!socket.isConnected()");
        var missed = client.RequestAsync<int>("double", 1);
        for (var i = 0; i < 20; i++)
        {
            client.Send("filler", i);
        }

        proxy.GoUp();
        Assert.Equal("session_lost", (await Assert.ThrowsAsync<VizRequestException>(() => missed.WaitAsync(TestServer.Timeout))).Code);
        Assert.False((await connects.WaitForCountAsync(2))[1].Recovered);
        Assert.Equal(0, await ResumePage.EvalAsync<int>(page, "window.asked"));

        // Waiting for a page that closes its socket.
        var waiting = client.RequestAsync<int>("never");
        await ResumePage.WaitAsync(page, "window.asked === 1");
        await ResumePage.EvalAsync<object?>(page, "socket.close()");
        Assert.Equal("session_lost", (await Assert.ThrowsAsync<VizRequestException>(() => waiting.WaitAsync(TestServer.Timeout))).Code);
    }

    [Theory]
    [OnEveryHost]
    public async Task AProtocolOnePageIsNotSentRequests(TestHost host)
    {
        await using var server = await StartAsync(host);
        var connects = new EventLog<VizConnectEvent>();
        server.Server.OnConnect(connects.Add);
        await using var context = await browser.NewContextAsync();
        var page = await RequestPage.OpenAsync(context, server.HttpBase, new { protocol = 1 });
        var client = (await connects.WaitForCountAsync(1))[0].Client;

        var error = await Assert.ThrowsAsync<VizRequestException>(() => client.RequestAsync<JsonElement>("double", 1).WaitAsync(TestServer.Timeout));

        Assert.Equal("not_supported", error.Code);
    }

    private static async Task<TestServer> StartAsync(TestHost host, Action<VizHtmlOptions>? configure = null)
    {
        var server = await TestServer.StartAsync(host, configure);
        server.Server.RegisterHtml(ResumePage.Name, ResumePage.Html);
        return server;
    }
}
