using System.Net;
using VizHtml.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static VizHtml.IntegrationTests.Infrastructure.ProcessMemory;

namespace VizHtml.IntegrationTests.Http;

[Collection("Memory")]
public sealed class FormMemoryTests(ITestOutputHelper output)
{
    private const int Uploads = 16;
    private const long FileBytes = 30 * MiB;

    // 16 uploads held in memory were about 80 MB each (issue 10); spooled to disk, what is left per upload is Kestrel's
    // request buffer and a parser buffer or two.
    private const long PeakBound = 64 * MiB;

    // After the uploads a full collection finds no upload still held (each is 30 MiB); what may stay is Kestrel's pool of
    // request-buffer blocks, which grew to serve sixteen connections at once (about 16 MiB measured, on the pinned heap).
    private const long HeapAfterwardsBound = 24 * MiB;

    private static readonly TimeSpan UploadTimeout = TimeSpan.FromMinutes(2);

    [Theory, OnEveryHost]
    public async Task SixteenConcurrentUploadsOf30MiBRaiseResidentMemoryByAtMost64MiBAndLeaveNothingBehind(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            // All sixteen in flight at once: the most memory this many uploads can take.
            o.MaxFormBytesInFlight = 1024 * MiB;
            o.MaxFormBytesInFlightPerAddress = 1024 * MiB;
        });
        test.Server.RegisterHtml("upload", "<form method=post enctype=multipart/form-data></form>");
        var checkedFiles = new EventLog<(int Seed, long Length, bool Intact)>();
        test.Server.OnFormSubmit(async e =>
        {
            var seed = int.Parse(e["seed"]!, System.Globalization.CultureInfo.InvariantCulture);
            var file = Assert.Single(e.Files);
            await using var stream = file.OpenRead();
            checkedFiles.Add((seed, file.Length, await PatternStream.MatchesAsync(stream, file.Length, seed)));
        });
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = test.HttpBase,
            Timeout = UploadTimeout,
        };

        // One small upload first, so what runs once (JIT, first connection, the spool folder) is in the baseline.
        using (var warmUp = await http.PostAsync(new Uri("/vizhtml/upload/", UriKind.Relative), FormUploads.PatternForm(200_000, seed: 99)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, warmUp.StatusCode);
        }

        await checkedFiles.WaitForCountAsync(1);
        var heapBaseline = HeapAfterFullCollection();
        var baseline = ResidentBytes();
        ProcessMemory.ResetPeakResident();

        var responses = await Task.WhenAll(Enumerable.Range(0, Uploads).Select(async seed =>
        {
            using var form = FormUploads.PatternForm(FileBytes, seed);
            using var response = await http.PostAsync(new Uri("/vizhtml/upload/", UriKind.Relative), form);
            return response.StatusCode;
        }));
        var handled = await checkedFiles.WaitForCountAsync(1 + Uploads, UploadTimeout);
        var peak = ProcessMemory.PeakResidentBytes();

        // The budget and the files are given back just after the last handler returns.
        await TestServer.WaitUntilAsync(() => test.Server.FormBudget.Total == 0);
        var heapAfterwards = HeapAfterFullCollection();
        var afterwards = ResidentBytes();

        output.WriteLine($"{host}: resident set {Format(baseline)}, peak {Format(peak)} (+{Format(peak - baseline)}), after a full collection {Format(afterwards)} (+{Format(afterwards - baseline)}); managed heap {Format(heapBaseline)}, afterwards {Format(heapAfterwards)}");
        Assert.All(responses, status => Assert.Equal(HttpStatusCode.SeeOther, status));
        Assert.All(handled, h => Assert.True(h.Intact, $"upload {h.Seed} reached the handler damaged"));
        Assert.Equal(Enumerable.Repeat(FileBytes, Uploads), handled.Where(h => h.Seed != 99).Select(h => h.Length));
        Assert.True(peak - baseline <= PeakBound, $"{Uploads} uploads of {Format(FileBytes)} raised the resident set by {Format(peak - baseline)}, over {Format(PeakBound)}");
        Assert.True(heapAfterwards - heapBaseline <= HeapAfterwardsBound, $"after the uploads the managed heap stayed {Format(heapAfterwards - heapBaseline)} above its baseline, over {Format(HeapAfterwardsBound)}");
        Assert.Empty(FormUploads.SpooledFiles(test.Server.FormSpool.Path));
    }
}
