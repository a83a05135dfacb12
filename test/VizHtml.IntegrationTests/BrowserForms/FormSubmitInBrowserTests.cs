using Microsoft.Playwright;
using VizHtml.IntegrationTests.Browser;
using VizHtml.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace VizHtml.IntegrationTests.BrowserForms;

/// <summary>HTML forms filled and submitted by Chromium, as a person would, against a real server.</summary>
public sealed class FormSubmitInBrowserTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string FirstName = "Ada Lovelace & Co. = 100% + ü€";

    // Typed with bare LFs; the browser sends a textarea's line breaks as CRLF (HTML: the textarea wrapping
    // transformation, and the form encodings normalize every line break of a value to CRLF).
    private const string TypedNote = "first line\nzweite Zeile: Grüße ü€😀\n\n  indented last line\n";
    private const string SentNote = "first line\r\nzweite Zeile: Grüße ü€😀\r\n\r\n  indented last line\r\n";

    private const string UploadName = "messwerte-grün.png";

    /// <summary>Every byte value, CR and LF among them, after a PNG signature: any text decoding or newline change shows.</summary>
    private static readonly byte[] UploadBytes =
        [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. Enumerable.Range(0, 256).Select(i => (byte)i), 0x0D, 0x0A, 0x0A, 0x0D];

    [Theory]
    [OnEveryHost]
    public async Task MultipartFormFilledInChromiumReachesTheHandlerAndTheWaiterExactlyAndTheBrowserLandsBackOnThePage(TestHost host)
    {
        const string Name = "survey";
        var serverLog = new ServerLog();
        await using var server = await TestServer.StartAsync(host, o => o.LoggerFactory = serverLog.Factory);
        using var folder = new ScratchFolder();
        var uploadPath = folder.Write(UploadName, UploadBytes);
        server.Server.RegisterHtml(Name, SurveyHtml("method=\"post\" enctype=\"multipart/form-data\"", withFileInput: true));
        var forms = new EventLog<VizFormSubmitEvent>();
        using var subscription = server.Server.OnFormSubmit(forms.Add);
        var waited = server.Server.WaitFormSubmitAsync(Name);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageErrors = PageDiagnostics.CollectPageErrors(page);
        var pageUrl = $"{server.HttpBase}vizhtml/{Name}/";

        await page.GotoAsync(pageUrl);
        await Expect(page.Locator("#loads")).ToHaveTextAsync("1");
        await FillSurveyAsync(page);
        await page.SetInputFilesAsync("input[name=upload]", uploadPath);
        await Screenshots.SaveAsync(page, "form-filled");
        var (post, landed) = await SubmitAsync(page, "#send", pageUrl);

        Assert.Equal(pageUrl, post.Url);
        Assert.StartsWith("multipart/form-data; boundary=", await post.HeaderValueAsync("content-type").WaitAsync(TestServer.Timeout), StringComparison.Ordinal);
        Assert.Equal(303, (await post.ResponseAsync().WaitAsync(TestServer.Timeout))?.Status);
        await AssertShowsTheSurveyAgainAsync(page, landed, pageUrl);
        await Screenshots.SaveAsync(page, "form-submitted");

        var fromHandler = Assert.Single(await forms.WaitForCountAsync(1));
        var fromWait = await waited.WaitAsync(TestServer.Timeout);
        foreach (var form in new[] { fromHandler, fromWait })
        {
            Assert.Equal(Name, form.Page);
            Assert.Equal("127.0.0.1", form.Address);
            AssertSurveyFields(form);
            var file = Assert.Single(form.Files);
            Assert.Equal("upload", file.FieldName);
            Assert.Equal(UploadName, file.FileName);
            Assert.Equal("image/png", file.ContentType);
            Assert.Equal(UploadBytes.Length, file.Length);
            Assert.Equal(UploadBytes, file.Content.ToArray());
            using var stream = file.OpenRead();
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy).WaitAsync(TestServer.Timeout);
            Assert.Equal(UploadBytes, copy.ToArray());
        }

        Assert.Single(forms.Items);
        Assert.Empty(pageErrors);
        Assert.Empty(serverLog.Errors);
    }

    [Theory]
    [OnEveryHost]
    public async Task UrlEncodedFormFilledInChromiumReachesTheHandlerAndTheWaiterExactlyAndTheBrowserLandsBackOnThePage(TestHost host)
    {
        // A nested name: the redirect back must keep both segments.
        const string Name = "forms/plain";
        var serverLog = new ServerLog();
        await using var server = await TestServer.StartAsync(host, o => o.LoggerFactory = serverLog.Factory);
        server.Server.RegisterHtml(Name, SurveyHtml("method=\"post\"", withFileInput: false));
        var forms = new EventLog<VizFormSubmitEvent>();
        using var subscription = server.Server.OnFormSubmit(forms.Add);
        var waited = server.Server.WaitFormSubmitAsync(Name);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageErrors = PageDiagnostics.CollectPageErrors(page);
        var pageUrl = $"{server.HttpBase}vizhtml/{Name}/";

        await page.GotoAsync(pageUrl);
        await Expect(page.Locator("#loads")).ToHaveTextAsync("1");
        await FillSurveyAsync(page);
        var (post, landed) = await SubmitAsync(page, "#send", pageUrl);

        Assert.Equal(pageUrl, post.Url);
        Assert.Equal("application/x-www-form-urlencoded", await post.HeaderValueAsync("content-type").WaitAsync(TestServer.Timeout));
        Assert.Equal(303, (await post.ResponseAsync().WaitAsync(TestServer.Timeout))?.Status);
        await AssertShowsTheSurveyAgainAsync(page, landed, pageUrl);

        var fromHandler = Assert.Single(await forms.WaitForCountAsync(1));
        var fromWait = await waited.WaitAsync(TestServer.Timeout);
        foreach (var form in new[] { fromHandler, fromWait })
        {
            Assert.Equal(Name, form.Page);
            Assert.Equal("127.0.0.1", form.Address);
            AssertSurveyFields(form);
            Assert.Empty(form.Files);
        }

        Assert.Empty(pageErrors);
        Assert.Empty(serverLog.Errors);
    }

    [Theory]
    [OnEveryHost]
    public async Task FormOnAFilePagePostingToTheFormPathRaisesTheEventForThatPageAndTheBrowserLandsBackOnIt(TestHost host)
    {
        const string Name = "file-form";
        var serverLog = new ServerLog();
        await using var server = await TestServer.StartAsync(host, o => o.LoggerFactory = serverLog.Factory);
        using var folder = new ScratchFolder();
        server.Server.RegisterFile(Name, folder.WriteText("form.html", SurveyHtml("method=\"post\" action=\"/vizhtml_form/\"", withFileInput: false)));
        var forms = new EventLog<VizFormSubmitEvent>();
        using var subscription = server.Server.OnFormSubmit(forms.Add);
        var waited = server.Server.WaitFormSubmitAsync(Name);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageErrors = PageDiagnostics.CollectPageErrors(page);
        var pageUrl = $"{server.HttpBase}vizhtml/{Name}/";

        await page.GotoAsync(pageUrl);
        await Expect(page.Locator("#loads")).ToHaveTextAsync("1");
        await FillSurveyAsync(page);
        var (post, landed) = await SubmitAsync(page, "#send", pageUrl);

        Assert.Equal($"{server.HttpBase}vizhtml_form/", post.Url);
        Assert.Equal(pageUrl, await post.HeaderValueAsync("referer").WaitAsync(TestServer.Timeout));
        Assert.Equal(303, (await post.ResponseAsync().WaitAsync(TestServer.Timeout))?.Status);
        await AssertShowsTheSurveyAgainAsync(page, landed, pageUrl);

        var fromHandler = Assert.Single(await forms.WaitForCountAsync(1));
        var fromWait = await waited.WaitAsync(TestServer.Timeout);
        foreach (var form in new[] { fromHandler, fromWait })
        {
            Assert.Equal(Name, form.Page);
            Assert.Equal("127.0.0.1", form.Address);
            AssertSurveyFields(form);
        }

        Assert.Empty(pageErrors);
        Assert.Empty(serverLog.Errors);
    }

    [Theory]
    [OnEveryHost]
    public async Task FormInALocalFilePostingToTheFormPathRaisesAnEventWithoutPageAndTheBrowserShowsTheConfirmation(TestHost host)
    {
        var serverLog = new ServerLog();
        await using var server = await TestServer.StartAsync(host, o => o.LoggerFactory = serverLog.Factory);
        server.Server.RegisterHtml("unrelated", "<!DOCTYPE html><title>unrelated</title>");
        using var folder = new ScratchFolder();
        var formUrl = $"{server.HttpBase}vizhtml_form/";
        var localFile = folder.WriteText("local-form.html", SurveyHtml($"method=\"post\" action=\"{formUrl}\"", withFileInput: false));
        var forms = new EventLog<VizFormSubmitEvent>();
        using var subscription = server.Server.OnFormSubmit(forms.Add);
        var waited = server.Server.WaitFormSubmitAsync();
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync().WaitAsync(TestServer.Timeout);
        var pageErrors = PageDiagnostics.CollectPageErrors(page);

        await page.GotoAsync(new Uri(localFile).AbsoluteUri);
        Assert.StartsWith("file://", page.Url, StringComparison.Ordinal);
        await FillSurveyAsync(page);
        var confirmation = await page.RunAndWaitForResponseAsync(
            () => page.ClickAsync("#send"),
            r => r.Request.Method == "POST" && r.Url == formUrl);

        Assert.Equal(200, confirmation.Status);
        Assert.StartsWith("text/html", await confirmation.HeaderValueAsync("content-type").WaitAsync(TestServer.Timeout), StringComparison.Ordinal);
        await Expect(page.Locator("body")).ToContainTextAsync("form was received");
        Assert.Equal(formUrl, page.Url);

        var fromHandler = Assert.Single(await forms.WaitForCountAsync(1));
        var fromWait = await waited.WaitAsync(TestServer.Timeout);
        foreach (var form in new[] { fromHandler, fromWait })
        {
            Assert.Null(form.Page);
            Assert.Equal("127.0.0.1", form.Address);
            AssertSurveyFields(form);
        }

        Assert.Empty(pageErrors);
        Assert.Empty(serverLog.Errors);
    }

    /// <summary>
    /// A form page; its <c>#loads</c> counts the loads in this tab (sessionStorage) so a test can tell the page
    /// shown after the submit is a new load rather than the document it filled.
    /// </summary>
    private static string SurveyHtml(string formAttributes, bool withFileInput) => $$"""
        <!DOCTYPE html>
        <html>
        <head>
          <meta charset="utf-8">
          <title>Survey</title>
          <style>
            body { font-family: sans-serif; margin: 2em; }
            label { display: block; margin: 0.4em 0; }
            textarea { display: block; width: 30em; height: 6em; }
          </style>
        </head>
        <body>
          <h1>Survey</h1>
          <p>Loads in this tab: <span id="loads"></span></p>
          <form {{formAttributes}}>
            <label>Name <input type="text" name="first_name"></label>
            <fieldset>
              <legend>Colors</legend>
              <label><input type="checkbox" name="colors" value="red"> red</label>
              <label><input type="checkbox" name="colors" value="green"> green</label>
              <label><input type="checkbox" name="colors" value="blue"> blue</label>
            </fieldset>
            <label>Fruits
              <select name="fruits" multiple size="3">
                <option value="apple">Apple</option>
                <option value="banana">Banana</option>
                <option value="cherry">Cherry</option>
              </select>
            </label>
            <label>Note <textarea name="note"></textarea></label>
            {{(withFileInput ? "<label>Measurements <input type=\"file\" name=\"upload\"></label>" : string.Empty)}}
            <label><input type="checkbox" name="subscribe" value="yes"> subscribe to the newsletter</label>
            <button type="submit" id="send">Send</button>
          </form>
          <script>
            sessionStorage.loads = String(Number(sessionStorage.loads || 0) + 1);
            document.getElementById('loads').textContent = sessionStorage.loads;
          </script>
        </body>
        </html>
        """;

    private static async Task FillSurveyAsync(IPage page)
    {
        await page.FillAsync("input[name=first_name]", FirstName);
        await page.CheckAsync("input[name=colors][value=red]");
        await page.CheckAsync("input[name=colors][value=blue]");
        await page.SelectOptionAsync("select[name=fruits]", new[] { "apple", "cherry" });
        await page.FillAsync("textarea[name=note]", TypedNote);
        await Expect(page.Locator("input[name=colors][value=green]")).Not.ToBeCheckedAsync();
        await Expect(page.Locator("input[name=subscribe]")).Not.ToBeCheckedAsync();
        Assert.Equal(TypedNote, await page.InputValueAsync("textarea[name=note]"));
    }

    /// <summary>
    /// Clicks <paramref name="button"/> and waits for the GET of <paramref name="landingUrl"/> that the post was
    /// redirected to; returns the post and the landing response.
    /// </summary>
    private static async Task<(IRequest Post, IResponse Landed)> SubmitAsync(IPage page, string button, string landingUrl)
    {
        var landed = await page.RunAndWaitForResponseAsync(
            () => page.ClickAsync(button),
            r => r.Request.Method == "GET" && r.Url == landingUrl && r.Request.RedirectedFrom is not null);
        var post = landed.Request.RedirectedFrom!;
        Assert.Equal("POST", post.Method);
        return (post, landed);
    }

    private static async Task AssertShowsTheSurveyAgainAsync(IPage page, IResponse landed, string pageUrl)
    {
        Assert.Equal(200, landed.Status);

        // A second load in this tab: the page was fetched again, not left as it was.
        await Expect(page.Locator("#loads")).ToHaveTextAsync("2");
        Assert.Equal(pageUrl, page.Url);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Survey");
        await Expect(page.Locator("input[name=first_name]")).ToHaveValueAsync(string.Empty);
        await Expect(page.Locator("#send")).ToBeVisibleAsync();
    }

    private static void AssertSurveyFields(VizFormSubmitEvent form)
    {
        Assert.Equal(["colors", "first_name", "fruits", "note"], form.Fields.Keys.Order(StringComparer.Ordinal));

        Assert.Equal(FirstName, form["first_name"]);
        Assert.Equal([FirstName], form.GetValues("first_name"));
        Assert.Equal(["red", "blue"], form.GetValues("colors"));
        Assert.Equal(["apple", "cherry"], form.GetValues("fruits"));
        Assert.Equal(SentNote, form["note"]);

        // The unchecked box is not sent at all, as browsers do.
        Assert.False(form.Has("subscribe"));
        Assert.Null(form["subscribe"]);
        Assert.Empty(form.GetValues("subscribe"));

        dynamic d = form;
        string firstName = d.first_name;
        Assert.Equal(FirstName, firstName);
        string note = d.note;
        Assert.Equal(SentNote, note);
        object colors = d.colors;
        Assert.Equal(["red", "blue"], Assert.IsAssignableFrom<IReadOnlyList<string>>(colors));
        object fruits = d.fruits;
        Assert.Equal(["apple", "cherry"], Assert.IsAssignableFrom<IReadOnlyList<string>>(fruits));
        Assert.Throws<KeyNotFoundException>(() => (object)d.subscribe);
    }
}
