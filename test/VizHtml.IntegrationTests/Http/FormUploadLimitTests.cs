using System.Net;
using Microsoft.Extensions.Time.Testing;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

/// <summary>How many form bytes the server holds at once, and how long an upload may hold its share.</summary>
public sealed class FormUploadLimitTests
{
    private const string UploadPage = "<form method=post enctype=multipart/form-data></form>";
    private const string Target = "/vizhtml/upload/";
    private const long Budget = 1024 * 1024;

    private static Uri Upload => new(Target, UriKind.Relative);

    private static async Task<RawUpload> StartHoldingAsync(TestServer test, long fileBytes, IPAddress? from = null)
    {
        var upload = await RawUpload.StartAsync(test.Port, Target, RawUpload.LengthWithFile(fileBytes), from);
        await upload.SendAsync(RawUpload.FilePartHead());
        await upload.SendPatternAsync(0, 1000);
        return upload;
    }

    private static async Task FinishAsync(RawUpload upload, long fileBytes)
    {
        await upload.SendPatternAsync(1000, fileBytes - 1000);
        await upload.SendAsync(RawUpload.Closing());
    }

    [Theory, OnEveryHost]
    public async Task WhileASlowUploadHoldsTheServersShareAnotherFormGets503WithRetryAfterBeforeItsBodyIsSent(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.MaxFormBytesInFlight = Budget;
            o.MaxFormBytesInFlightPerAddress = 10 * Budget;
        });
        test.Server.RegisterHtml("upload", UploadPage);
        var forms = new EventLog<(long Length, bool Intact)>();
        test.Server.OnFormSubmit(async e =>
        {
            await using var stream = e.Files[0].OpenRead();
            forms.Add((e.Files[0].Length, await PatternStream.MatchesAsync(stream, e.Files[0].Length, seed: 0)));
        });
        using var slow = await StartHoldingAsync(test, 800_000);
        await TestServer.WaitUntilAsync(() => test.Server.FormBudget.Total == RawUpload.LengthWithFile(800_000));

        // Only the request head: the answer cannot have waited for a body.
        using (var refused = await RawUpload.StartAsync(test.Port, Target, RawUpload.LengthWithFile(300_000)))
        {
            var (status, head) = await refused.ReadResponseHeadAsync();
            Assert.Equal(503, status);
            Assert.Contains("Retry-After: 5", head, StringComparison.OrdinalIgnoreCase);
        }

        await FinishAsync(slow, 800_000);
        Assert.Equal(303, (await slow.ReadResponseHeadAsync()).Status);
        await TestServer.WaitUntilAsync(() => test.Server.FormBudget.Total == 0);
        using var http = TestHttp.Client(test);
        using (var retried = await http.PostAsync(Upload, FormUploads.PatternForm(300_000, seed: 0)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, retried.StatusCode);
        }

        Assert.Equal([(800_000L, true), (300_000L, true)], await forms.WaitForCountAsync(2));
    }

    [Theory, OnEveryHost]
    public async Task AnAddressBeyondItsShareGets429WithRetryAfterWhileAnotherAddressIsServed(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.MaxFormBytesInFlight = 10 * Budget;
            o.MaxFormBytesInFlightPerAddress = Budget;
        });
        test.Server.RegisterHtml("upload", UploadPage);
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var slow = await StartHoldingAsync(test, 800_000);
        await TestServer.WaitUntilAsync(() => test.Server.FormBudget.Total == RawUpload.LengthWithFile(800_000));

        using (var refused = await RawUpload.StartAsync(test.Port, Target, RawUpload.LengthWithFile(300_000)))
        {
            var (status, head) = await refused.ReadResponseHeadAsync();
            Assert.Equal(429, status);
            Assert.Contains("Retry-After: 5", head, StringComparison.OrdinalIgnoreCase);
        }

        // Any 127.x.y.z address is this machine: another address, with its own share.
        using var other = await StartHoldingAsync(test, 300_000, from: IPAddress.Parse("127.0.0.2"));
        await FinishAsync(other, 300_000);
        Assert.Equal(303, (await other.ReadResponseHeadAsync()).Status);
        Assert.Equal("127.0.0.2", Assert.Single(await forms.WaitForCountAsync(1)).Address);
    }

    [Theory, OnOwnHosts]
    public async Task AFormKeepsItsShareUntilItsHandlerReturnsSoFormsQueuedBehindASlowHandlerCount(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.MaxFormBytesInFlight = Budget;
            o.MaxFormBytesInFlightPerAddress = 10 * Budget;
        });
        test.Server.RegisterHtml("upload", UploadPage);
        var inHandler = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new EventLog<string>();
        test.Server.OnFormSubmit(async e =>
        {
            inHandler.TrySetResult();
            await release.Task;
            handled.Add(e["seed"]!);
        });
        using var http = TestHttp.Client(test);

        using (var first = await http.PostAsync(Upload, FormUploads.PatternForm(800_000, seed: 1)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        }

        await inHandler.Task.WaitAsync(TestServer.Timeout);
        using (var refused = await http.PostAsync(Upload, FormUploads.PatternForm(300_000, seed: 2)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        }

        release.SetResult();
        await handled.WaitForCountAsync(1);
        await TestServer.WaitUntilAsync(() => test.Server.FormBudget.Total == 0);
        using (var retried = await http.PostAsync(Upload, FormUploads.PatternForm(300_000, seed: 3)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, retried.StatusCode);
        }

        Assert.Equal(["1", "3"], await handled.WaitForCountAsync(2));
    }

    [Theory, OnOwnHosts]
    public async Task AFormLargerThanTheWholeBudgetIsTakenWhenNoOtherFormIsHeld(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.MaxFormBytesInFlight = Budget;
            o.MaxFormBytesInFlightPerAddress = Budget;
        });
        test.Server.RegisterHtml("upload", UploadPage);
        var lengths = new EventLog<long>();
        test.Server.OnFormSubmit(e => lengths.Add(e.Files[0].Length));
        using var http = TestHttp.Client(test);

        using (var response = await http.PostAsync(Upload, FormUploads.PatternForm(3 * Budget, seed: 0)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        }

        Assert.Equal(3 * Budget, Assert.Single(await lengths.WaitForCountAsync(1)));
    }

    [Theory, OnOwnHosts]
    public async Task EvenATinyFormCountsAsMuchAsReadingItMayHoldSoStalledSmallFormsCannotPileUp(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.MaxFormBytesInFlight = 5 * 64 * 1024;
            o.MaxFormBytesInFlightPerAddress = 100 * Budget;
        });
        test.Server.RegisterHtml("upload", UploadPage);

        using var first = await StartHoldingAsync(test, 2000);
        using var second = await StartHoldingAsync(test, 2000);
        await TestServer.WaitUntilAsync(() => test.Server.FormBudget.Total == 2 * 128 * 1024);
        using var third = await RawUpload.StartAsync(test.Port, Target, RawUpload.LengthWithFile(2000));

        Assert.Equal(503, (await third.ReadResponseHeadAsync()).Status);
    }

    [Theory, OnEveryHost]
    public async Task AFormDeclaringMoreThanMaxFormBytesGets413BeforeItsBodyIsSentAndHoldsNothing(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxFormBytes = 64 * 1024);
        test.Server.RegisterHtml("upload", UploadPage);

        using var upload = await RawUpload.StartAsync(test.Port, Target, RawUpload.LengthWithFile(100_000));

        Assert.Equal(413, (await upload.ReadResponseHeadAsync()).Status);
        Assert.Equal(0, test.Server.FormBudget.Total);
    }

    [Theory, OnOwnHosts]
    public async Task AnUploadNotInWithinTheFormUploadTimeoutGets408AndGivesBackWhatItHeld(TestHost host)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.TimeProvider = time;
            o.FormUploadTimeout = TimeSpan.FromMinutes(1);

            // The standalone host also cuts a body that sends nothing for HandshakeTimeout, on this same clock (Kestrel's
            // minimum data rate runs on real time): kept out of the way, so the form's own deadline is what this measures.
            o.HandshakeTimeout = TimeSpan.FromMinutes(5);
        });
        test.Server.RegisterHtml("upload", UploadPage);
        using var upload = await RawUpload.StartAsync(test.Port, Target, RawUpload.LengthWithFile(1_000_000));
        await upload.SendAsync(RawUpload.FilePartHead());
        await upload.SendPatternAsync(0, 100_000);

        // The file is on disk, so the form is being read (and its deadline set).
        await TestServer.WaitUntilAsync(() => FormUploads.SpooledFiles(test.Server.FormSpool.Path).Length == 1);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(await upload.IsClosedByServerAsync(TimeSpan.FromMilliseconds(200)), "the upload was cut before its timeout");
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(408, (await upload.ReadResponseHeadAsync()).Status);
        await TestServer.WaitUntilAsync(() => test.Server.FormBudget.Total == 0 && FormUploads.SpooledFiles(test.Server.FormSpool.Path).Length == 0);
    }

    [Fact]
    public async Task OnTheEmbeddedHostAnUploadSlowerThanKestrelsMinimumDataRateIsCutAndGivesBackItsShare()
    {
        // Kestrel's default: a body slower than 240 bytes a second, after a 5-second grace period, ends the request.
        await using var test = await TestServer.StartAsync();
        test.Server.RegisterHtml("upload", UploadPage);
        using var upload = await RawUpload.StartAsync(test.Port, Target, RawUpload.LengthWithFile(100_000));
        await upload.SendAsync(RawUpload.FilePartHead());
        await TestServer.WaitUntilAsync(() => test.Server.FormBudget.Total > 0);

        // Ten bytes a second, for up to 30 seconds.
        var cut = false;
        for (var i = 0; i < 300 && !cut; i++)
        {
            try
            {
                await upload.SendPatternAsync(i, 1);
            }
            catch (System.Net.Sockets.SocketException)
            {
                break;
            }

            cut = await upload.IsClosedByServerAsync(TimeSpan.FromMilliseconds(100));
        }

        Assert.StartsWith("HTTP/1.1 408", upload.Received, StringComparison.Ordinal);
        await TestServer.WaitUntilAsync(() => test.Server.FormBudget.Total == 0);
    }
}
