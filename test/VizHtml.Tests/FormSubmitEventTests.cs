using System.Text.Json;

namespace VizHtml.Tests;

public sealed class FormSubmitEventTests
{
    public sealed record Answers(string Participant, int Presence, bool Consent, IReadOnlyList<string> Symptoms);

    private static VizFormSubmitEvent Form(params (string Name, string[] Values)[] fields) =>
        new("questionnaire", "127.0.0.1", fields.ToDictionary(f => f.Name, f => (IReadOnlyList<string>)f.Values), []);

    [Fact]
    public void DynamicAccessGivesStringsForSingleValuesAndListsForRepeatedOnes()
    {
        dynamic form = Form(("first_name", ["Ada"]), ("colors", ["red", "blue"]));
        string name = form.first_name;
        IReadOnlyList<string> colors = form.colors;
        Assert.Equal("Ada", name);
        Assert.Equal(["red", "blue"], colors);
        var ex = Assert.Throws<KeyNotFoundException>(() => (object)form.last_name);
        Assert.Contains("last_name", ex.Message, StringComparison.Ordinal);
        Assert.Contains("first_name, colors", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IndexerAndGetValuesReadFields()
    {
        var form = Form(("a", ["1"]), ("b", ["x", "y"]));
        Assert.Equal("1", form["a"]);
        Assert.Equal("x", form["b"]);
        Assert.Null(form["missing"]);
        Assert.Equal(["x", "y"], form.GetValues("b"));
        Assert.Empty(form.GetValues("missing"));
        Assert.True(form.Has("a"));
        Assert.False(form.Has("missing"));
    }

    [Fact]
    public void BindsToARecordReadingNumbersBooleansAndLists()
    {
        var form = Form(("participant", ["P7"]), ("presence", ["5"]), ("consent", ["on"]), ("symptoms", ["nausea", "dizziness"]));
        var answers = form.As<Answers>();
        Assert.Equal("P7", answers.Participant);
        Assert.Equal(5, answers.Presence);
        Assert.True(answers.Consent);
        Assert.Equal(["nausea", "dizziness"], answers.Symptoms);
    }

    [Fact]
    public void BindingRefusesTextThatIsNotANumber()
    {
        var form = Form(("participant", ["P7"]), ("presence", ["very"]), ("consent", ["on"]), ("symptoms", ["a", "b"]));
        Assert.Throws<JsonException>(() => form.As<Answers>());
    }

    [Fact]
    public void ResponseFactoriesSetStatusTypeAndHeaders()
    {
        var json = VizResponse.Json(new { FrameCount = 3 });
        Assert.Equal(200, json.StatusCode);
        Assert.StartsWith("application/json", json.ContentType, StringComparison.Ordinal);

        var redirect = VizResponse.Redirect("/vizhtml/x/");
        Assert.Equal(303, redirect.StatusCode);
        Assert.Equal("/vizhtml/x/", redirect.Headers["location"]);

        Assert.Null(VizResponse.Status(204).ContentType);
        Assert.Throws<ArgumentException>(() => VizResponse.Html("x").WithHeader("X-Bad", "a\r\nb"));
        Assert.Throws<FileNotFoundException>(() => VizResponse.File("/no/such/file.txt"));
    }
}
