using System.Net;
using System.Net.Http.Headers;
using System.Text;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

public sealed class FormSubmitTests
{
    private static FormUrlEncodedContent SurveyForm() => new(
    [
        new("first_name", "Ada"),
        new("colors", "red"),
        new("colors", "green"),
        new("colors", "blue"),
        new("note", "two words & an ampersand"),
        new("empty", string.Empty),
    ]);

    private static void AssertSurveyFields(VizFormSubmitEvent e)
    {
        Assert.Equal(["colors", "empty", "first_name", "note"], e.Fields.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Ada", e["first_name"]);
        Assert.Equal(["Ada"], e.GetValues("first_name"));
        Assert.Equal(["red", "green", "blue"], e.GetValues("colors"));
        Assert.Equal("red", e["colors"]);
        Assert.Equal("two words & an ampersand", e["note"]);
        Assert.Equal(string.Empty, e["empty"]);
        Assert.True(e.Has("empty"));
        Assert.False(e.Has("missing"));
        Assert.Null(e["missing"]);
        Assert.Empty(e.GetValues("missing"));
        Assert.Empty(e.Files);

        dynamic d = e;
        string firstName = d.first_name;
        Assert.Equal("Ada", firstName);
        object colors = d.colors;
        var list = Assert.IsAssignableFrom<IReadOnlyList<string>>(colors);
        Assert.Equal(["red", "green", "blue"], list);
        object note = d.note;
        Assert.IsType<string>(note);
        Assert.Throws<KeyNotFoundException>(() => (object)d.missing);
    }

    [Theory, OnOwnHosts]
    public async Task UrlEncodedFormToAPageRaisesTheEventWithItsFieldsAndRedirectsBackWith303(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("survey", "<form method=post></form>");
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var response = await http.PostAsync(new Uri("/vizhtml/survey/", UriKind.Relative), SurveyForm());

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/vizhtml/survey/", response.Headers.Location?.OriginalString);
        var fromHandler = (await forms.WaitForCountAsync(1))[0];
        var fromWait = await waited.WaitAsync(TestServer.Timeout);
        Assert.Same(fromHandler, fromWait);
        Assert.Equal("survey", fromHandler.Page);
        Assert.Equal("127.0.0.1", fromHandler.Address);
        AssertSurveyFields(fromHandler);
    }

    [Theory, OnOwnHosts]
    public async Task FormPostedToThePageUrlWithoutSlashIsAlsoASubmit(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("survey", "<form method=post></form>");
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var response = await http.PostAsync(new Uri("/vizhtml/survey", UriKind.Relative), SurveyForm());

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/vizhtml/survey/", response.Headers.Location?.OriginalString);
        var form = await waited.WaitAsync(TestServer.Timeout);
        Assert.Equal("survey", form.Page);
        Assert.Equal("Ada", form["first_name"]);
    }

    [Theory, OnOwnHosts]
    public async Task MultipartFormCarriesFieldsAndFilesWithTheirExactBytes(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("upload", "<form method=post enctype=multipart/form-data></form>");
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        var waited = test.Server.WaitFormSubmitAsync("upload");
        using var http = TestHttp.Client(test);
        var photo = new byte[70_000];
        new Random(42).NextBytes(photo);
        var text = Encoding.UTF8.GetBytes("line one\r\nline two ü\n");

        using var content = new MultipartFormDataContent();
        content.Add(new StringContent("Ada"), "first_name");
        content.Add(new StringContent("red"), "colors");
        content.Add(new StringContent("blue"), "colors");
        content.Add(WithType(new ByteArrayContent(photo), "image/jpeg"), "photo", "holiday photo.jpg");
        content.Add(WithType(new ByteArrayContent(text), "text/plain"), "notes", "notes.txt");
        content.Add(EmptyFileInput("nothing"));
        using var response = await http.PostAsync(new Uri("/vizhtml/upload/", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/vizhtml/upload/", response.Headers.Location?.OriginalString);
        var form = (await forms.WaitForCountAsync(1))[0];
        Assert.Same(form, await waited.WaitAsync(TestServer.Timeout));
        Assert.Equal("upload", form.Page);
        Assert.Equal("127.0.0.1", form.Address);
        Assert.Equal("Ada", form["first_name"]);
        Assert.Equal(["red", "blue"], form.GetValues("colors"));
        dynamic d = form;
        string firstName = d.first_name;
        IReadOnlyList<string> colors = d.colors;
        Assert.Equal("Ada", firstName);
        Assert.Equal(["red", "blue"], colors);

        Assert.Equal(2, form.Files.Count);
        var uploadedPhoto = Assert.Single(form.Files, f => f.FieldName == "photo");
        Assert.Equal("holiday photo.jpg", uploadedPhoto.FileName);
        Assert.Equal("image/jpeg", uploadedPhoto.ContentType);
        Assert.Equal(photo.Length, uploadedPhoto.Length);
        Assert.Equal(photo, uploadedPhoto.Content.ToArray());
        using (var stream = uploadedPhoto.OpenRead())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            Assert.Equal(photo, copy.ToArray());
        }

        var uploadedText = Assert.Single(form.Files, f => f.FieldName == "notes");
        Assert.Equal("notes.txt", uploadedText.FileName);
        Assert.Equal("text/plain", uploadedText.ContentType);
        Assert.Equal(text, uploadedText.Content.ToArray());
    }

    [Theory, OnOwnHosts]
    public async Task EmptyFileInputIsNotAFile(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("upload", "<form method=post enctype=multipart/form-data></form>");
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var content = new MultipartFormDataContent();
        content.Add(new StringContent("kept"), "comment");
        content.Add(EmptyFileInput("attachment"));
        content.Add(WithType(new ByteArrayContent([7]), "application/octet-stream"), "other", "one-byte.bin");
        using var response = await http.PostAsync(new Uri("/vizhtml/upload/", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var form = await waited.WaitAsync(TestServer.Timeout);
        Assert.Equal("kept", form["comment"]);
        Assert.Equal("one-byte.bin", Assert.Single(form.Files).FileName);
    }

    [Theory, OnOwnHosts]
    public async Task EmptyFileInputDoesNotBecomeATextField(TestHost host)
    {
        // Browsers send an empty file input as a part with filename="" and no bytes; it is a file input, not text.
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("upload", "<form method=post enctype=multipart/form-data></form>");
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var content = new MultipartFormDataContent();
        content.Add(new StringContent("kept"), "comment");
        content.Add(EmptyFileInput("attachment"));
        using var response = await http.PostAsync(new Uri("/vizhtml/upload/", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var form = await waited.WaitAsync(TestServer.Timeout);
        Assert.Equal("kept", form["comment"]);
        Assert.Empty(form.Files);
        Assert.False(form.Has("attachment"), "the empty file input 'attachment' showed up as a text field");
    }

    [Theory, OnOwnHosts]
    public async Task FileNameWithADirectoryPartKeepsOnlyTheLastSegment(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("upload", "<form></form>");
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var content = new MultipartFormDataContent();
        content.Add(WithType(new ByteArrayContent([1, 2, 3]), "application/octet-stream"), "a", "C:\\fakepath\\photo.jpg");
        content.Add(WithType(new ByteArrayContent([4, 5]), "application/octet-stream"), "b", "../../etc/evil.txt");
        using var response = await http.PostAsync(new Uri("/vizhtml/upload/", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var form = await waited.WaitAsync(TestServer.Timeout);
        Assert.Equal("photo.jpg", Assert.Single(form.Files, f => f.FieldName == "a").FileName);
        Assert.Equal("evil.txt", Assert.Single(form.Files, f => f.FieldName == "b").FileName);
    }

    [Theory, OnOwnHosts]
    public async Task FormToTheFormPathWithAPageRefererBelongsToThatPageAndGoesBackToTheReferer(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("survey", "<form action=/vizhtml_form/ method=post></form>");
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/vizhtml_form/", UriKind.Relative)) { Content = SurveyForm() };
        request.Headers.Referrer = new Uri(test.HttpBase, "/vizhtml/survey/?step=2");
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/vizhtml/survey/?step=2", response.Headers.Location?.OriginalString);
        var form = await waited.WaitAsync(TestServer.Timeout);
        Assert.Equal("survey", form.Page);
        AssertSurveyFields(form);
    }

    [Theory, OnOwnHosts]
    public async Task FormToTheFormPathWithoutSlashIsAccepted(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var response = await http.PostAsync(new Uri("/vizhtml_form", UriKind.Relative), SurveyForm());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Ada", (await waited.WaitAsync(TestServer.Timeout))["first_name"]);
    }

    [Theory, OnOwnHosts]
    public async Task FormToTheFormPathWithoutRefererHasNoPageAndGetsAConfirmationPage(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("survey", "<p>registered but not the sender</p>");
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var response = await http.PostAsync(new Uri("/vizhtml_form/", UriKind.Relative), SurveyForm());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", await TestHttp.BodyAsync(response), StringComparison.OrdinalIgnoreCase);
        var form = await waited.WaitAsync(TestServer.Timeout);
        Assert.Null(form.Page);
        Assert.Equal("127.0.0.1", form.Address);
        AssertSurveyFields(form);
    }

    [Theory]
    [OnOwnHosts("http://127.0.0.1:1/vizhtml/survey/")]
    [OnOwnHosts("http://example.com/vizhtml/survey/")]
    [OnOwnHosts("file:///home/user/form.html")]
    public async Task FormToTheFormPathFromAnotherOriginHasNoPage(TestHost host, string referer)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("survey", "<p>survey</p>");
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/vizhtml_form/", UriKind.Relative)) { Content = SurveyForm() };
        request.Headers.Referrer = new Uri(referer);
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null((await waited.WaitAsync(TestServer.Timeout)).Page);
    }

    [Theory, OnOwnHosts]
    public async Task FormToTheFormPathWithARefererOfAnUnregisteredPageHasNoPage(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/vizhtml_form/", UriKind.Relative)) { Content = SurveyForm() };
        request.Headers.Referrer = new Uri(test.HttpBase, "/vizhtml/not-registered/");
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null((await waited.WaitAsync(TestServer.Timeout)).Page);
    }

    [Theory, OnOwnHosts]
    public async Task GetOfTheFormPathIs405(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        using var http = TestHttp.Client(test);

        using var response = await http.GetAsync(new Uri("/vizhtml_form/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Theory, OnOwnHosts]
    public async Task FormSubmittedHtmlOptionIsShownInsteadOfTheRedirect(TestHost host)
    {
        const string Thanks = "<!DOCTYPE html><p>Thanks, all noted.</p>";
        await using var test = await TestServer.StartAsync(host, o => o.FormSubmittedHtml = Thanks);
        test.Server.RegisterHtml("survey", "<form method=post></form>");
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var http = TestHttp.Client(test);

        using var toPage = await http.PostAsync(new Uri("/vizhtml/survey/", UriKind.Relative), SurveyForm());
        Assert.Equal(HttpStatusCode.OK, toPage.StatusCode);
        Assert.Equal("text/html; charset=utf-8", toPage.Content.Headers.ContentType?.ToString());
        Assert.Equal(Thanks, await TestHttp.BodyAsync(toPage));

        using var toFormPath = await http.PostAsync(new Uri("/vizhtml_form/", UriKind.Relative), SurveyForm());
        Assert.Equal(HttpStatusCode.OK, toFormPath.StatusCode);
        Assert.Equal(Thanks, await TestHttp.BodyAsync(toFormPath));

        var both = await forms.WaitForCountAsync(2);
        Assert.Equal(new string?[] { "survey", null }, both.Select(f => f.Page));
    }

    [Theory, OnOwnHosts]
    public async Task FormLargerThanMaxFormBytesGets413RaisesNoEventAndTheServerCarriesOn(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxFormBytes = 4096);
        test.Server.RegisterHtml("survey", "<form method=post></form>");
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var http = TestHttp.Client(test);

        using (var tooBig = await http.PostAsync(new Uri("/vizhtml/survey/", UriKind.Relative), new FormUrlEncodedContent([new("big", new string('x', 8000))])))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        }

        Assert.Equal((HttpStatusCode.OK, "<form method=post></form>"), await TestHttp.GetTextAsync(http, "/vizhtml/survey/"));
        using (var small = await http.PostAsync(new Uri("/vizhtml/survey/", UriKind.Relative), new FormUrlEncodedContent([new("small", "fits")])))
        {
            Assert.Equal(HttpStatusCode.SeeOther, small.StatusCode);
        }

        // Events are delivered in order, so had the refused form raised one it would be first.
        var delivered = await forms.WaitForCountAsync(1);
        Assert.Equal("fits", Assert.Single(delivered)["small"]);
    }

    [Theory, OnOwnHosts]
    public async Task MultipartFormLargerThanMaxFormBytesGets413AndRaisesNoEvent(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxFormBytes = 4096);
        test.Server.RegisterHtml("upload", "<form></form>");
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var http = TestHttp.Client(test);

        using (var content = new MultipartFormDataContent())
        {
            content.Add(WithType(new ByteArrayContent(new byte[10_000]), "application/octet-stream"), "file", "big.bin");
            using var tooBig = await http.PostAsync(new Uri("/vizhtml/upload/", UriKind.Relative), content);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        }

        using (var content = new MultipartFormDataContent())
        {
            content.Add(WithType(new ByteArrayContent(new byte[100]), "application/octet-stream"), "file", "small.bin");
            using var small = await http.PostAsync(new Uri("/vizhtml/upload/", UriKind.Relative), content);
            Assert.Equal(HttpStatusCode.SeeOther, small.StatusCode);
        }

        var delivered = await forms.WaitForCountAsync(1);
        Assert.Equal("small.bin", Assert.Single(Assert.Single(delivered).Files).FileName);
    }

    [Theory, OnOwnHosts]
    public async Task FormToTheFormPathLargerThanMaxFormBytesGets413(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.MaxFormBytes = 4096);
        using var http = TestHttp.Client(test);

        using var tooBig = await http.PostAsync(new Uri("/vizhtml_form/", UriKind.Relative), new FormUrlEncodedContent([new("big", new string('x', 8000))]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
    }

    [Theory, OnOwnHosts]
    public async Task WaitFormSubmitForOnePageIgnoresFormsFromAnother(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("a", "<form method=post></form>");
        test.Server.RegisterHtml("b", "<form method=post></form>");
        // The log subscribes after the wait, so when the log has an event the wait has already seen it.
        var fromB = test.Server.WaitFormSubmitAsync(page: "b");
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var http = TestHttp.Client(test);

        await SubmitAsync(http, new Uri("/vizhtml/a/", UriKind.Relative), new FormUrlEncodedContent([new("from", "a")]));

        await forms.WaitForCountAsync(1);
        Assert.False(fromB.IsCompleted, "a form from page a completed the wait for page b");
        await SubmitAsync(http, new Uri("/vizhtml/b/", UriKind.Relative), new FormUrlEncodedContent([new("from", "b")]));

        var form = await fromB.WaitAsync(TestServer.Timeout);
        Assert.Equal("b", form.Page);
        Assert.Equal("b", form["from"]);
    }

    [Theory, OnOwnHosts]
    public async Task WaitFormSubmitWithAnAlreadyCancelledTokenIsCancelled(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);

        var wait = test.Server.WaitFormSubmitAsync(cancellationToken: new CancellationToken(canceled: true));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TestServer.Timeout));
        Assert.True(wait.IsCanceled);
    }

    [Theory, OnOwnHosts]
    public async Task WaitFormSubmitIsCancelledWhenItsTokenIsCancelledAndLaterFormsDoNotComplete(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("a", "<form method=post></form>");
        var forms = new EventLog<VizFormSubmitEvent>();
        test.Server.OnFormSubmit(forms.Add);
        using var cancel = new CancellationTokenSource();
        var wait = test.Server.WaitFormSubmitAsync(cancellationToken: cancel.Token);
        Assert.False(wait.IsCompleted);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TestServer.Timeout));
        Assert.True(wait.IsCanceled);
        using var http = TestHttp.Client(test);
        await SubmitAsync(http, new Uri("/vizhtml/a/", UriKind.Relative), new FormUrlEncodedContent([new("x", "1")]));

        await forms.WaitForCountAsync(1);
        Assert.True(wait.IsCanceled);
    }

    private sealed record Order(string Name, int Quantity, bool GiftWrap, bool Express, List<string> Toppings, string[] Sizes, string? Note);

    [Theory, OnOwnHosts]
    public async Task FormBindsToARecordWithNumbersBooleansStringsAndLists(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("order", "<form method=post></form>");
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        await SubmitAsync(http, new Uri("/vizhtml/order/", UriKind.Relative), new FormUrlEncodedContent(
        [
            new("name", "Pizza"),
            new("QUANTITY", "3"),
            new("giftWrap", "on"),
            new("toppings", "olives"),
            new("toppings", "basil"),
            new("sizes", "s"),
            new("sizes", "l"),
        ]));

        var order = (await waited.WaitAsync(TestServer.Timeout)).As<Order>();
        Assert.Equal("Pizza", order.Name);
        Assert.Equal(3, order.Quantity);
        Assert.True(order.GiftWrap);
        Assert.False(order.Express);
        Assert.Equal(["olives", "basil"], order.Toppings);
        Assert.Equal(["s", "l"], order.Sizes);
        Assert.Null(order.Note);
    }

    [Theory, OnOwnHosts]
    public async Task FormFieldSentOnceBindsToAListMemberAsOneItem(TestHost host)
    {
        // A checkbox group with one box ticked sends its field once; a List member must still bind.
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("order", "<form method=post></form>");
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        await SubmitAsync(http, new Uri("/vizhtml/order/", UriKind.Relative), new FormUrlEncodedContent(
        [
            new("name", "Pizza"),
            new("quantity", "1"),
            new("toppings", "olives"),
            new("sizes", "m"),
        ]));

        var order = (await waited.WaitAsync(TestServer.Timeout)).As<Order>();
        Assert.Equal(["olives"], order.Toppings);
        Assert.Equal(["m"], order.Sizes);
    }

    [Theory, OnOwnHosts]
    public async Task FormValueThatDoesNotFitItsMemberThrowsJsonException(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.RegisterHtml("order", "<form method=post></form>");
        var waited = test.Server.WaitFormSubmitAsync();
        using var http = TestHttp.Client(test);

        await SubmitAsync(http, new Uri("/vizhtml/order/", UriKind.Relative), new FormUrlEncodedContent([new("quantity", "three")]));

        var form = await waited.WaitAsync(TestServer.Timeout);
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => form.As<Order>());
    }

    private static async Task SubmitAsync(HttpClient http, Uri path, HttpContent content)
    {
        using (content)
        {
            using var response = await http.PostAsync(path, content);
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        }
    }

    private static HttpContent WithType(HttpContent content, string mediaType)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    /// <summary>What a browser sends for a file input left empty: a part with filename="" and no bytes.</summary>
    private static ByteArrayContent EmptyFileInput(string name)
    {
        var part = new ByteArrayContent([]);
        part.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = $"\"{name}\"", FileName = "\"\"" };
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return part;
    }
}
