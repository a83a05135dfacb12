using System.Net;
using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Http;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Time;

/// <summary>A page handler that does not answer within <see cref="VizHtmlOptions.RequestHandlerTimeout"/>, on a fake clock.</summary>
public sealed class RequestHandlerTimeoutTests
{
    private static readonly TimeSpan RequestHandlerTimeout = TimeSpan.FromSeconds(10);

    [Theory, OnOwnHosts]
    public async Task ABlockedHandlerGets503OnceTheRequestHandlerTimeoutPassesAndTheServerCarriesOnOnceItReturns(TestHost host)
    {
        var clock = new FakeTimeProvider();
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.TimeProvider = clock;
            o.RequestHandlerTimeout = RequestHandlerTimeout;
        });
        using var gate = new ManualResetEventSlim();
        var blocking = new TaskCompletionSource<VizRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelledSeen = new EventLog<bool>();
        try
        {
            test.Server.RegisterHandler("slow", r =>
            {
                if (r.Path == "block")
                {
                    blocking.TrySetResult(r);
                    gate.Wait(TestServer.Timeout);
                    cancelledSeen.Add(r.CancellationToken.IsCancellationRequested);
                }

                return VizResponse.Text("answered " + r.Path);
            });
            test.Server.RegisterHtml("static", "<p>static</p>");
            using var http = TestHttp.Client(test);

            // The handler runs, so the request's timeout is armed, at the clock's start.
            var blocked = TestHttp.GetTextAsync(http, "/vizhtml/slow/block");
            var request = await blocking.Task.WaitAsync(TestServer.Timeout);

            // The timeout fires inside Advance and cancels the request's token there: not yet.
            clock.Advance(RequestHandlerTimeout - TimeSpan.FromMilliseconds(1));
            Assert.False(request.CancellationToken.IsCancellationRequested);

            // Plain pages do not need the dispatcher, so they are served while the handler still blocks it.
            Assert.Equal((HttpStatusCode.OK, "<p>static</p>"), await TestHttp.GetTextAsync(http, "/vizhtml/static/"));
            Assert.False(blocked.IsCompleted);

            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.True(request.CancellationToken.IsCancellationRequested);
            var (status, body) = await blocked.WaitAsync(TestServer.Timeout);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.DoesNotContain("answered", body, StringComparison.Ordinal);

            gate.Set();
            Assert.True(Assert.Single(await cancelledSeen.WaitForCountAsync(1)), "the handler should see its request's token fired by the timeout");
            Assert.Equal((HttpStatusCode.OK, "answered fast"), await TestHttp.GetTextAsync(http, "/vizhtml/slow/fast"));
        }
        finally
        {
            gate.Set();
        }
    }
}
