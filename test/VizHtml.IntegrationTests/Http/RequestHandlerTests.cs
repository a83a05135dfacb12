using System.Net;
using System.Text.Json;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

public sealed class RequestHandlerTests
{
    [Theory, OnOwnHosts]
    public async Task HtmlAnswerIsUtf8Html(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", _ => VizResponse.Html("<p>from the handler ✓</p>"));
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/h/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("<p>from the handler ✓</p>", await TestHttp.BodyAsync(response));
    }

    [Theory, OnOwnHosts]
    public async Task TextAnswerIsPlainTextWithItsStatus(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", r => r.Path == "created" ? VizResponse.Text("made it", 201) : VizResponse.Text("plain words"));
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/h/words.txt", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("plain words", await TestHttp.BodyAsync(response));

        Assert.Equal((HttpStatusCode.Created, "made it"), await TestHttp.GetTextAsync(http, "/vizhtml/h/created"));
    }

    private sealed record Reading(string SensorName, double MaxValue, IReadOnlyList<int> LastSamples);

    [Theory, OnOwnHosts]
    public async Task JsonAnswerUsesCamelCaseNames(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", _ => VizResponse.Json(new Reading("Left Arm", 1.5, [1, 2, 3])));
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/h/state.json", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await TestHttp.BodyAsync(response));
        var root = json.RootElement;
        Assert.Equal(["sensorName", "maxValue", "lastSamples"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Left Arm", root.GetProperty("sensorName").GetString());
        Assert.Equal(1.5, root.GetProperty("maxValue").GetDouble());
        Assert.Equal([1, 2, 3], root.GetProperty("lastSamples").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Theory, OnOwnHosts]
    public async Task FileAnswerServesTheFileWithItsTypeAndValidators(TestHost host)
    {
        using var dir = new TempDirectory();
        var file = dir.Write("report.css", "h1 { font-size: 2em }");
        var typed = dir.Write("report.dat", "1,2,3");
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", r => r.Path == "typed" ? VizResponse.File(typed, "text/csv") : VizResponse.File(file));
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/h/any-name", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.ETag);
        Assert.NotNull(response.Content.Headers.LastModified);
        Assert.Equal("h1 { font-size: 2em }", await TestHttp.BodyAsync(response));

        using var typedResponse = await http.GetAsync(new Uri("/vizhtml/h/typed", UriKind.Relative));
        Assert.Equal("text/csv", typedResponse.Content.Headers.ContentType?.MediaType);
        Assert.Equal("1,2,3", await TestHttp.BodyAsync(typedResponse));
    }

    [Theory, OnOwnHosts]
    public async Task StatusAnswerHasItsCodeAndText(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", r => r.Path == "bare" ? VizResponse.Status(204) : VizResponse.Status(418, "short and stout"));
        using var http = TestHttp.Client(test);

        Assert.Equal((HttpStatusCode)418, (await TestHttp.GetTextAsync(http, "/vizhtml/h/teapot")).Status);
        Assert.Equal("short and stout", (await TestHttp.GetTextAsync(http, "/vizhtml/h/teapot")).Body);
        Assert.Equal((HttpStatusCode.NoContent, string.Empty), await TestHttp.GetTextAsync(http, "/vizhtml/h/bare"));
    }

    [Theory, OnOwnHosts]
    public async Task RedirectAnswerIs303WithLocation(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", _ => VizResponse.Redirect("/vizhtml/elsewhere/?from=h"));
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/h/go", UriKind.Relative));

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/vizhtml/elsewhere/?from=h", response.Headers.Location?.OriginalString);
    }

    [Theory, OnOwnHosts]
    public async Task HeadersAddedWithWithHeaderArrive(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", _ => VizResponse.Json(new { ok = true })
            .WithHeader("X-Viz-Test", "yes please")
            .WithHeader("Cache-Control", "no-store"));
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/h/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["yes please"], response.Headers.GetValues("X-Viz-Test"));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Theory, OnOwnHosts]
    public async Task HandlerSeesMethodPathQueryHeadersAndAddress(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var requests = new EventLog<VizRequest>();
        test.Server.RegisterHandler("h", r =>
        {
            requests.Add(r);
            return VizResponse.Text("seen");
        });
        using var http = TestHttp.Client(test);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/vizhtml/h/a/b.txt?x=1&y=two%20words&y=3", UriKind.Relative));
        request.Headers.Add("X-Probe", "42");
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(await requests.WaitForCountAsync(1));
        Assert.Equal("GET", seen.Method);
        Assert.Equal("h", seen.Page);
        Assert.Equal("a/b.txt", seen.Path);
        Assert.Equal("x=1&y=two%20words&y=3", seen.QueryString);
        Assert.Equal(["1"], seen.Query["x"]);
        Assert.Equal(["two words", "3"], seen.Query["y"]);
        Assert.Equal("42", seen.Headers["x-probe"]);
        Assert.Equal("42", seen.Headers["X-PROBE"]);
        Assert.Equal($"127.0.0.1:{test.Server.Port}", seen.Headers["Host"]);
        Assert.Equal("127.0.0.1", seen.Address);
        Assert.Null(seen.Form);
    }

    [Theory]
    [OnEveryHost("/vizhtml/h/?a=1&b=x%20y", "a=1&b=x%20y")]
    [OnEveryHost("/vizhtml/h/??x", "?x")]
    [OnEveryHost("/vizhtml/h/?", "")]
    [OnEveryHost("/vizhtml/h/", "")]
    public async Task HandlerQueryStringHasNoLeadingQuestionMarkAsTheOriginalsQueryString(TestHost host, string url, string queryString)
    {
        await using var test = await TestServer.StartAsync(host);
        var requests = new EventLog<VizRequest>();
        test.Server.RegisterHandler("h", r =>
        {
            requests.Add(r);
            return VizResponse.Text("seen");
        });
        using var http = TestHttp.Client(test);

        Assert.Equal(HttpStatusCode.OK, (await TestHttp.GetTextAsync(http, url)).Status);

        Assert.Equal(queryString, Assert.Single(await requests.WaitForCountAsync(1)).QueryString);
    }

    [Theory]
    [OnOwnHosts("/vizhtml/h/", "")]
    [OnOwnHosts("/vizhtml/h", "")]
    [OnOwnHosts("/vizhtml/h/state.json", "state.json")]
    [OnOwnHosts("/vizhtml/h/img/a%20b.png", "img/a b.png")]
    [OnOwnHosts("/vizhtml/h/100%25.txt", "100%.txt")]
    public async Task HandlerPathIsTheDecodedPathBelowThePage(TestHost host, string url, string path)
    {
        await using var test = await TestServer.StartAsync(host);
        var requests = new EventLog<VizRequest>();
        test.Server.RegisterHandler("h", r =>
        {
            requests.Add(r);
            return VizResponse.Text("seen");
        });
        using var http = TestHttp.Client(test);

        Assert.Equal(HttpStatusCode.OK, (await TestHttp.GetTextAsync(http, url)).Status);

        Assert.Equal(path, Assert.Single(await requests.WaitForCountAsync(1)).Path);
    }

    [Theory, OnOwnHosts]
    public async Task HandlerPathIsDecodedOnlyOnce(TestHost host)
    {
        // A file literally named "50%41.txt" is requested as 50%2541.txt; decoding twice would turn it into "50A.txt".
        await using var test = await TestServer.StartAsync(host);
        var requests = new EventLog<VizRequest>();
        test.Server.RegisterHandler("h", r =>
        {
            requests.Add(r);
            return VizResponse.Text("seen");
        });
        using var http = TestHttp.Client(test);

        Assert.Equal(HttpStatusCode.OK, (await TestHttp.GetTextAsync(http, "/vizhtml/h/50%2541.txt")).Status);

        Assert.Equal("50%41.txt", Assert.Single(await requests.WaitForCountAsync(1)).Path);
    }

    [Theory, OnOwnHosts]
    public async Task HandlerSeesAPostedFormAndItsFiles(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var requests = new EventLog<VizRequest>();
        test.Server.RegisterHandler("h", r =>
        {
            requests.Add(r);
            return VizResponse.Json(new { received = r.Form?["name"] });
        });
        using var http = TestHttp.Client(test);

        using var content = new MultipartFormDataContent
        {
            { new StringContent("Ada"), "name" },
            { new StringContent("a"), "tags" },
            { new StringContent("b"), "tags" },
            { new ByteArrayContent([9, 8, 7]), "blob", "blob.bin" },
        };
        using var response = await http.PostAsync(new Uri("/vizhtml/h/save", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"received\":\"Ada\"}", await TestHttp.BodyAsync(response));
        var seen = Assert.Single(await requests.WaitForCountAsync(1));
        Assert.Equal("POST", seen.Method);
        Assert.Equal("save", seen.Path);
        Assert.NotNull(seen.Form);
        Assert.Equal("h", seen.Form.Page);
        Assert.Equal("127.0.0.1", seen.Form.Address);
        Assert.Equal(["a", "b"], seen.Form.GetValues("tags"));
        Assert.Equal(new byte[] { 9, 8, 7 }, Assert.Single(seen.Form.Files).Content.ToArray());
    }

    [Theory, OnEveryHost]
    public async Task FormPostToAHandlerPageRaisesTheFormSubmitEventWithItsFieldsAfterTheHandlerAnswered(TestHost host)
    {
        // The original's custom-handler sample shows posted messages from its onFormSubmit handler.
        await using var test = await TestServer.StartAsync(host);
        var order = new EventLog<string>();
        var requests = new EventLog<VizRequest>();
        test.Server.RegisterHandler("h", async r =>
        {
            order.Add("handler saw " + r.Form?["message"]);
            requests.Add(r);
            await Task.Yield();
            order.Add("handler answered");
            return VizResponse.Text("handled");
        });
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(e =>
        {
            order.Add("form submit saw " + e["message"]);
            forms.Add(e);
        });
        using var http = TestHttp.Client(test);

        using var response = await http.PostAsync(new Uri("/vizhtml/h/", UriKind.Relative), new FormUrlEncodedContent([new("message", "hello there"), new("n", "1"), new("n", "2")]));

        Assert.Equal((HttpStatusCode.OK, "handled"), (response.StatusCode, await TestHttp.BodyAsync(response)));
        Assert.Equal(["handler saw hello there", "handler answered", "form submit saw hello there"], await order.WaitForCountAsync(3));
        var form = Assert.Single(forms.Items);
        Assert.Same(Assert.Single(requests.Items).Form, form);
        Assert.Equal("h", form.Page);
        Assert.Equal("127.0.0.1", form.Address);
        Assert.Equal(["1", "2"], form.GetValues("n"));
        dynamic d = form;
        Assert.Equal("hello there", (string)d.message);
    }

    [Theory, OnOwnHosts]
    public async Task AGetToAHandlerPageRaisesNoFormSubmitEvent(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", _ => VizResponse.Text("handled"));
        test.Server.RegisterHtml("marker", "<p>marker</p>");
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var http = TestHttp.Client(test);

        Assert.Equal((HttpStatusCode.OK, "handled"), await TestHttp.GetTextAsync(http, "/vizhtml/h/?x=1"));
        using (var marker = await http.PostAsync(new Uri("/vizhtml/marker/", UriKind.Relative), new FormUrlEncodedContent([new("x", "2")])))
        {
            Assert.Equal(HttpStatusCode.SeeOther, marker.StatusCode);
        }

        // Events keep their order: had the GET raised one, it would come first.
        Assert.Equal("marker", Assert.Single(await forms.WaitForCountAsync(1)).Page);
    }

    [Theory, OnOwnHosts]
    public async Task AFormPostWhoseHandlerThrowsGets500AndStillRaisesTheFormSubmitEvent(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", VizResponse? (_) => throw new InvalidOperationException("the handler failed"));
        var waited = test.Server.WaitFormSubmitAsync("h");
        using var http = TestHttp.Client(test);

        using var response = await http.PostAsync(new Uri("/vizhtml/h/", UriKind.Relative), new FormUrlEncodedContent([new("message", "kept")]));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("kept", (await waited.WaitAsync(TestServer.Timeout))["message"]);
    }

    [Theory, OnOwnHosts]
    public async Task DeclinedGetFallsBackToAFileFromTheHandlerDirectory(TestHost host)
    {
        using var dir = new TempDirectory();
        dir.Write("static/data.txt", "from the directory");
        await using var test = await TestServer.StartAsync(host);
        var requests = new EventLog<VizRequest>();
        test.Server.RegisterHandler(
            "h",
            r =>
            {
                requests.Add(r);
                return r.Path == "dynamic" ? VizResponse.Text("from the handler") : null;
            },
            dir.Root);
        using var http = TestHttp.Client(test);

        Assert.Equal((HttpStatusCode.OK, "from the directory"), await TestHttp.GetTextAsync(http, "/vizhtml/h/static/data.txt"));
        Assert.Equal((HttpStatusCode.OK, "from the handler"), await TestHttp.GetTextAsync(http, "/vizhtml/h/dynamic"));
        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/vizhtml/h/static/missing.txt")).Status);
        Assert.Equal(["static/data.txt", "dynamic", "static/missing.txt"], (await requests.WaitForCountAsync(3)).Select(r => r.Path));
    }

    [Theory, OnOwnHosts]
    public async Task DeclinedGetWithoutDirectoryIs404(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", _ => null);
        using var http = TestHttp.Client(test);

        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/vizhtml/h/")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await TestHttp.GetTextAsync(http, "/vizhtml/h/file.txt")).Status);
    }

    [Theory, OnOwnHosts]
    public async Task DeclinedUrlEncodedPostBecomesAFormSubmitWithItsFields(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var handlerSawForm = new EventLog<string?>();
        test.Server.RegisterHandler("h", r =>
        {
            handlerSawForm.Add(r.Form?["name"]);
            return null;
        });
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var response = await http.PostAsync(new Uri("/vizhtml/h/", UriKind.Relative), new FormUrlEncodedContent([new("name", "Ada"), new("n", "1"), new("n", "2")]));

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/vizhtml/h/", response.Headers.Location?.OriginalString);
        Assert.Equal("Ada", Assert.Single(await handlerSawForm.WaitForCountAsync(1)));
        var form = await waited.WaitAsync(TestServer.Timeout);
        Assert.Equal("h", form.Page);
        Assert.Equal("Ada", form["name"]);
        Assert.Equal(["1", "2"], form.GetValues("n"));
    }

    [Theory, OnOwnHosts]
    public async Task DeclinedMultipartPostBecomesAFormSubmitWithItsFieldsAndFiles(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", _ => null);
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var content = new MultipartFormDataContent
        {
            { new StringContent("Ada"), "name" },
            { new ByteArrayContent([1, 2, 3, 4]), "upload", "four.bin" },
        };
        using var response = await http.PostAsync(new Uri("/vizhtml/h/", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var form = await waited.WaitAsync(TestServer.Timeout);
        Assert.Equal("Ada", form["name"]);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, Assert.Single(form.Files).Content.ToArray());
    }

    [Theory, OnOwnHosts]
    public async Task PostToAHandlerPageOverMaxFormBytesGets413WithoutCallingTheHandler(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxFormBytes = 4096);
        var calls = new EventLog<string>();
        test.Server.RegisterHandler("h", r =>
        {
            calls.Add(r.Method);
            return VizResponse.Text("called");
        });
        using var http = TestHttp.Client(test);

        using (var tooBig = await http.PostAsync(new Uri("/vizhtml/h/", UriKind.Relative), new FormUrlEncodedContent([new("big", new string('x', 8000))])))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        }

        Assert.Equal((HttpStatusCode.OK, "called"), await TestHttp.GetTextAsync(http, "/vizhtml/h/"));
        Assert.Equal(["GET"], await calls.WaitForCountAsync(1));
    }

    [Theory, OnOwnHosts]
    public async Task HandlerRequestThatTimedOutWhileQueuedDoesNotStopLaterHandlersOrEvents(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.RequestHandlerTimeout = TimeSpan.FromMilliseconds(300));
        using var release = new ManualResetEventSlim();
        var started = new EventLog<string>();
        try
        {
            test.Server.RegisterHandler("slow", r =>
            {
                started.Add(r.Path);
                if (r.Path == "block")
                {
                    release.Wait(TestServer.Timeout);
                }

                return VizResponse.Text("answered " + r.Path);
            });
            test.Server.RegisterHtml("form", "<form method=post></form>");
            using var http = TestHttp.Client(test);

            var blocked = TestHttp.GetTextAsync(http, "/vizhtml/slow/block");
            await started.WaitForCountAsync(1);

            // This one waits behind the blocked handler and times out before the dispatcher ever reaches it.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await TestHttp.GetTextAsync(http, "/vizhtml/slow/queued")).Status);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await blocked).Status);

            release.Set();
            Assert.Equal((HttpStatusCode.OK, "answered after"), await TestHttp.GetTextAsync(http, "/vizhtml/slow/after"));
            var waited = test.Server.WaitFormSubmitAsync();
            using (var submit = await http.PostAsync(new Uri("/vizhtml/form/", UriKind.Relative), new FormUrlEncodedContent([new("still", "working")])))
            {
                Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
            }

            Assert.Equal("working", (await waited.WaitAsync(TestServer.Timeout))["still"]);
            Assert.DoesNotContain("queued", started.Items);
        }
        finally
        {
            release.Set();
        }
    }

    [Theory, OnOwnHosts]
    public async Task HandlerRequestThatTimedOutBeforeItsTurnIsDroppedWithoutThrowingIntoTheHostLoop(TestHost host)
    {
        // Manual dispatch makes "before its turn" exact: nothing runs until the host loop calls DispatchPending.
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.Dispatch = VizDispatchMode.Manual;
            o.RequestHandlerTimeout = TimeSpan.FromMilliseconds(300);
        });
        var calls = new EventLog<string>();
        test.Server.RegisterHandler("h", r =>
        {
            calls.Add(r.Path);
            return VizResponse.Text("answered " + r.Path);
        });
        using var http = TestHttp.Client(test);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await TestHttp.GetTextAsync(http, "/vizhtml/h/late")).Status);

        var exception = Record.Exception(() => test.Server.DispatchPending());
        Assert.Null(exception);
        Assert.DoesNotContain("late", calls.Items);

        var answered = TestHttp.GetTextAsync(http, "/vizhtml/h/on-time");
        await PumpUntilAsync(test.Server, answered);
        Assert.Equal((HttpStatusCode.OK, "answered on-time"), await answered);
    }

    /// <summary>A host loop for manual dispatch: runs queued handler work until <paramref name="until"/> completes.</summary>
    private static async Task PumpUntilAsync(VizHtmlServer server, Task until)
    {
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        while (!until.IsCompleted && DateTime.UtcNow < deadline)
        {
            server.DispatchPending();
            await Task.Delay(1);
        }

        await until.WaitAsync(TestServer.Timeout);
    }

    [Theory, OnOwnHosts]
    public async Task ThrowingHandlerGets500WithoutTheExceptionMessageAndTheNextRequestWorks(TestHost host)
    {
        const string Detail = "connection string Password=hunter2";
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", r => r.Path == "boom" ? throw new InvalidOperationException(Detail) : VizResponse.Text("fine"));
        using var http = TestHttp.Client(test);

        var (status, body) = await TestHttp.GetTextAsync(http, "/vizhtml/h/boom");

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(InvalidOperationException), body, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, "fine"), await TestHttp.GetTextAsync(http, "/vizhtml/h/ok"));
    }

    [Theory, OnOwnHosts]
    public async Task HandlerPageWithOnlyAHandlerStillServesTheClientScript(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHandler("h", r => r.Path.Length == 0 ? VizResponse.Html("<script src='vizhtml.js'></script>") : null);
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml/h/vizhtml.js", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
    }
}
