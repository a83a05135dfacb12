using System.Net;
using System.Runtime.CompilerServices;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

/// <summary>Uploaded files past a form's first 64 KiB live in a temporary file, for as long as the form's handlers run and no longer.</summary>
public sealed class FormTempFileTests
{
    private const string UploadPage = "<form method=post enctype=multipart/form-data></form>";
    private const long FileBytes = 1024 * 1024;

    private static Uri Upload => new("/vizhtml/upload/", UriKind.Relative);

    private static int SpooledCount(TestServer test) => FormUploads.SpooledFiles(test.Server.FormSpool.Path).Length;

    /// <summary>Waits until the server holds no form: no share of the budget, no temporary file.</summary>
    private static Task WaitUntilNothingIsHeldAsync(TestServer test) =>
        TestServer.WaitUntilAsync(() => test.Server.FormBudget.Total == 0 && SpooledCount(test) == 0);

    [Theory, OnEveryHost]
    public async Task AnUploadPastTheMemoryThresholdIsOnDiskWhileAnAsyncHandlerAwaitsAndDeletedWhenItCompletes(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("upload", UploadPage);
        var inHandler = new TaskCompletionSource<VizFormFile>(TaskCreationOptions.RunContinuationsAsynchronously);
        var goOn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readAfterAwait = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        test.Server.OnFormSubmit(async e =>
        {
            var file = e.Files[0];
            inHandler.SetResult(file);
            await goOn.Task;
            await using var stream = file.OpenRead();
            readAfterAwait.SetResult(await PatternStream.MatchesAsync(stream, FileBytes, seed: 3));
        });
        using var http = TestHttp.Client(test);

        using (var response = await http.PostAsync(Upload, FormUploads.PatternForm(FileBytes, seed: 3)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        }

        var file = await inHandler.Task.WaitAsync(TestServer.Timeout);
        Assert.True(file.IsSpooled);
        Assert.Equal(1, SpooledCount(test));
        goOn.SetResult();
        Assert.True(await readAfterAwait.Task.WaitAsync(TestServer.Timeout), "the file read after the handler's await was not the upload");
        await WaitUntilNothingIsHeldAsync(test);
    }

    [Theory, OnOwnHosts]
    public async Task TheTemporaryFileIsDeletedWhenTheHandlerThrows(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("upload", UploadPage);
        var onDisk = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        test.Server.OnFormSubmit(e =>
        {
            onDisk.SetResult(SpooledCount(test));
            throw new InvalidOperationException("the handler failed");
        });
        using var http = TestHttp.Client(test);

        using (var response = await http.PostAsync(Upload, FormUploads.PatternForm(FileBytes, seed: 4)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        }

        Assert.Equal(1, await onDisk.Task.WaitAsync(TestServer.Timeout));
        await WaitUntilNothingIsHeldAsync(test);
    }

    [Theory, OnEveryHost]
    public async Task TheTemporaryFileIsDeletedWhenTheClientDropsTheConnectionMidUploadAndNoEventIsRaised(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("upload", UploadPage);
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var upload = await RawUpload.StartAsync(test.Port, "/vizhtml/upload/", RawUpload.LengthWithFile(FileBytes));
        await upload.SendAsync(RawUpload.FilePartHead());
        await upload.SendPatternAsync(0, 300_000);
        await TestServer.WaitUntilAsync(() => SpooledCount(test) == 1);

        upload.Abort();

        await WaitUntilNothingIsHeldAsync(test);
        using var http = TestHttp.Client(test);
        using (var response = await http.PostAsync(Upload, FormUploads.PatternForm(1000, seed: 5)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        }

        // Events are delivered in order, so had the dropped upload raised one it would be first.
        Assert.Equal("5", Assert.Single(await forms.WaitForCountAsync(1))["seed"]);
    }

    [Theory, OnOwnHosts]
    public async Task TheTemporaryFileIsDeletedWhenAChunkedFormOutgrowsMaxFormBytesMidBody(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxFormBytes = 256 * 1024);
        test.Server.RegisterHtml("upload", UploadPage);
        using var upload = await RawUpload.StartAsync(test.Port, "/vizhtml/upload/", contentLength: null);
        if (host == TestHost.Standalone)
        {
            // The standalone host takes no chunked request body (RFC 9112 allows a server to require a length): it answers
            // 411 from the head alone, so no file is ever started.
            Assert.Equal(411, (await upload.ReadResponseHeadAsync()).Status);
            await WaitUntilNothingIsHeldAsync(test);
            return;
        }

        await upload.SendAsync(RawUpload.FilePartHead());
        await upload.SendPatternAsync(0, 100_000);
        await TestServer.WaitUntilAsync(() => SpooledCount(test) == 1);

        await upload.SendPatternAsync(100_000, 200_000);

        Assert.Equal(413, (await upload.ReadResponseHeadAsync()).Status);
        await WaitUntilNothingIsHeldAsync(test);
    }

    [Theory, OnOwnHosts]
    public async Task TheTemporaryFileIsDeletedWhenTheFormIsMalformedAndNoEventIsRaised(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("upload", UploadPage);
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        const int Sent = 200_000;
        using var upload = await RawUpload.StartAsync(test.Port, "/vizhtml/upload/", RawUpload.FilePartHead().Length + Sent);
        await upload.SendAsync(RawUpload.FilePartHead());
        await upload.SendPatternAsync(0, 100_000);
        await TestServer.WaitUntilAsync(() => SpooledCount(test) == 1);

        // The body ends without the closing boundary.
        await upload.SendPatternAsync(100_000, Sent - 100_000);

        Assert.Equal(400, (await upload.ReadResponseHeadAsync()).Status);
        await WaitUntilNothingIsHeldAsync(test);
        using var http = TestHttp.Client(test);
        using (var response = await http.PostAsync(Upload, FormUploads.PatternForm(1000, seed: 11)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        }

        Assert.Equal("11", Assert.Single(await forms.WaitForCountAsync(1))["seed"]);
    }

    [Theory, OnOwnHosts]
    public async Task AFileThatWasOnDiskCannotBeReadAfterTheHandlersButAFileInMemoryCan(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("upload", UploadPage);
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var http = TestHttp.Client(test);
        using var form = FormUploads.PatternForm(FileBytes, seed: 6);
        form.Add(new ByteArrayContent([1, 2, 3]), "small", "small.bin");

        using (var response = await http.PostAsync(Upload, form))
        {
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        }

        var files = (await forms.WaitForCountAsync(1))[0].Files;
        await WaitUntilNothingIsHeldAsync(test);
        var ex = Assert.Throws<ObjectDisposedException>(() => files[0].OpenRead());
        Assert.Contains("read it in a handler", ex.Message, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3], files[1].Content.ToArray());
    }

    [Theory, OnOwnHosts]
    public async Task ARequestHandlerReadsTheUploadAndItsFileIsDeletedOnceItHasAnswered(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("upload", async request =>
        {
            var file = request.Form!.Files[0];
            await using var stream = file.OpenRead();
            var intact = file.IsSpooled && SpooledCount(test) == 1 && await PatternStream.MatchesAsync(stream, FileBytes, seed: 7);
            return VizResponse.Text(intact ? "intact, on disk" : "not as uploaded");
        });
        using var http = TestHttp.Client(test);

        using (var response = await http.PostAsync(Upload, FormUploads.PatternForm(FileBytes, seed: 7)))
        {
            Assert.Equal("intact, on disk", await TestHttp.BodyAsync(response));
        }

        await WaitUntilNothingIsHeldAsync(test);
    }

    [Theory, OnEveryHost]
    public async Task AFormARequestHandlerAnswersKeepsItsFileForTheFormSubmitHandlersAfterItAndThenLosesIt(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("upload", request => VizResponse.Text(request.Form!.Files[0].IsSpooled ? "answered, on disk" : "in memory"));
        var intact = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        test.Server.OnFormSubmit(async e =>
        {
            await Task.Yield();
            await using var stream = e.Files[0].OpenRead();
            intact.SetResult(SpooledCount(test) == 1 && await PatternStream.MatchesAsync(stream, FileBytes, seed: 11));
        });
        using var http = TestHttp.Client(test);

        using (var response = await http.PostAsync(Upload, FormUploads.PatternForm(FileBytes, seed: 11)))
        {
            Assert.Equal("answered, on disk", await TestHttp.BodyAsync(response));
        }

        Assert.True(await intact.Task.WaitAsync(TestServer.Timeout), "the form-submit handler did not read the upload intact from its temporary file");
        await WaitUntilNothingIsHeldAsync(test);
    }

    [Theory, OnOwnHosts]
    public async Task AFormARequestHandlerDeclinesKeepsItsFileForTheFormSubmitHandlersAndThenLosesIt(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("upload", _ => null);
        var intact = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        test.Server.OnFormSubmit(async e =>
        {
            await using var stream = e.Files[0].OpenRead();
            intact.SetResult(await PatternStream.MatchesAsync(stream, FileBytes, seed: 8));
        });
        using var http = TestHttp.Client(test);

        using (var response = await http.PostAsync(Upload, FormUploads.PatternForm(FileBytes, seed: 8)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        }

        Assert.True(await intact.Task.WaitAsync(TestServer.Timeout));
        await WaitUntilNothingIsHeldAsync(test);
    }

    [Theory, OnOwnHosts]
    public async Task AFormFromWaitFormSubmitKeepsItsFileReadableAfterTheHandlersUntilItIsCollected(TestHost host)
    {
        // Manual dispatch: when DispatchPending returns, the handlers have run and the form has been let go.
        await using var test = await TestServer.StartAsync(host, o => o.Dispatch = VizDispatchMode.Manual);
        test.Server.RegisterHtml("upload", UploadPage);

        // The client keeps its connection open: a kept-alive connection must not hold on to its last form. The server
        // lets go of the form on its own threads just after DispatchPending, so collect until it is gone.
        using var http = TestHttp.Client(test);
        await WaitAndReadAfterTheHandlersAsync(test, http);

        await TestServer.WaitUntilAsync(() =>
        {
            ProcessMemory.HeapAfterFullCollection();
            return SpooledCount(test) == 0;
        });
    }

    // Out of line, so nothing in the test method keeps the form reachable once it returns.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task WaitAndReadAfterTheHandlersAsync(TestServer test, HttpClient http)
    {
        var waited = test.Server.WaitFormSubmitAsync("upload");
        using (var response = await http.PostAsync(Upload, FormUploads.PatternForm(FileBytes, seed: 9)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        }

        Assert.Equal(1, test.Server.DispatchPending());
        var form = await waited.WaitAsync(TestServer.Timeout);

        Assert.Equal(1, SpooledCount(test));
        await using var stream = form.Files[0].OpenRead();
        Assert.True(await PatternStream.MatchesAsync(stream, FileBytes, seed: 9));
    }

    [Theory, OnOwnHosts]
    public async Task DisposingTheServerDeletesTheFilesOfFormsWhoseHandlersNeverRan(TestHost host)
    {
        var test = await TestServer.StartAsync(host, o => o.Dispatch = VizDispatchMode.Manual);
        string folder;
        await using (test)
        {
            test.Server.RegisterHtml("upload", UploadPage);
            test.Server.OnFormSubmit(_ => { });
            using var http = TestHttp.Client(test);
            using (var response = await http.PostAsync(Upload, FormUploads.PatternForm(FileBytes, seed: 10)))
            {
                Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
            }

            folder = test.Server.FormSpool.Path!;
            Assert.Single(Directory.GetFiles(folder));
        }

        Assert.False(Directory.Exists(folder), "the server's temporary folder outlived the server");
    }
}
