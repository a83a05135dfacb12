using System.Text.Json;

namespace VizHtml.Tests;

public sealed class VizDataTests
{
    public sealed record ButtonClick(int Count, string Label);

    [Fact]
    public void DynamicMembersReadAsNaturalClrValues()
    {
        dynamic d = VizData.Parse("""{"count":41,"label":"ok","flag":true,"ratio":0.5,"big":9007199254740993,"none":null,"pos":{"x":1.5},"list":[1,2]}""");

        int count = d.count;
        string label = d.label;
        Assert.Equal(41, count);
        Assert.Equal("OK", d.label.ToUpperInvariant());
        Assert.Equal("ok", label);
        Assert.True(d.flag && d.count > 40 && 42 > d.count);
        Assert.Equal(1.0, d.ratio * 2);
        Assert.Equal(42, d.count + 1);
        Assert.Equal(9007199254740993L, (long)d.big);
        Assert.Null(d.none);
        Assert.Equal(1.5, (double)d.pos.x);
        Assert.Equal(2, d.list.Count);
        Assert.Equal(2, d.list[1]);
        Assert.Equal("ok", d["label"]);
        float f = (float)d.ratio;
        Assert.Equal(0.5f, f);
    }

    [Fact]
    public void MissingDynamicMemberNamesTheMemberAndTheOnesThatExist()
    {
        dynamic d = VizData.Parse("""{"count":1,"label":"x"}""");
        var ex = Assert.Throws<KeyNotFoundException>(() => (object)d.cuont);
        Assert.Contains("cuont", ex.Message, StringComparison.Ordinal);
        Assert.Contains("count, label", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScalarDataConvertsImplicitlyThroughDynamic()
    {
        dynamic n = VizData.Parse("42");
        dynamic s = VizData.Parse("\"hi\"");
        int i = n;
        string text = s;
        Assert.Equal(42, i);
        Assert.Equal("hi", text);
    }

    [Fact]
    public void IndexerAndTypedGettersReadMembers()
    {
        var d = VizData.Parse("""{"count":3,"name":"a","ok":false,"t":1.25,"arr":[10,20]}""");
        Assert.Equal(3, (int)d["count"]);
        Assert.Equal(3, d.GetInt32("count"));
        Assert.Equal(3L, d.GetInt64("count"));
        Assert.Equal("a", d.GetString("name"));
        Assert.False(d.GetBoolean("ok"));
        Assert.Equal(1.25, d.GetDouble("t"));
        Assert.Equal(20, d["arr"][1].GetInt32());
        Assert.Equal([10, 20], d["arr"].AsList().Select(v => v.GetInt32()));
        Assert.True(d.Has("count"));
        Assert.False(d.Has("missing"));
        Assert.True(d.TryGet("name", out var name) && name.GetString() == "a");
        Assert.Equal(["count", "name", "ok", "t", "arr"], d.Names);
    }

    [Fact]
    public void WrongTypeNamesWhatWasFound()
    {
        var d = VizData.Parse("""{"count":"three"}""");
        var ex = Assert.Throws<InvalidOperationException>(() => d.GetInt32("count"));
        Assert.Contains("String", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Int32", ex.Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => d["nope"]);
        Assert.Throws<InvalidOperationException>(() => d["count"]["inner"]);
    }

    [Fact]
    public void BindsToARecordCaseInsensitively()
    {
        var d = VizData.Parse("""{"count":2,"label":"go"}""");
        Assert.Equal(new ButtonClick(2, "go"), d.As<ButtonClick>());
        Assert.Throws<JsonException>(() => VizData.Parse("""{"count":"x"}""").As<ButtonClick>());
        Assert.Throws<JsonException>(() => VizData.Null.As<int>());
    }

    [Fact]
    public void BuildsAnAttributeBagWithInitializerDynamicAndSet()
    {
        var bag = new VizData { ["count"] = 3, ["name"] = "x", ["ok"] = true, ["t"] = 0.5 };
        bag.Set("list", new[] { 1, 2 }).Set("nested", new { a = new { b = 1 } });
        dynamic d = bag;
        d.extra = "e";
        Assert.Equal("""{"count":3,"name":"x","ok":true,"t":0.5,"list":[1,2],"nested":{"a":{"b":1}},"extra":"e"}""", bag.ToJson());
    }

    [Fact]
    public void FromWritesAnythingSystemTextJsonCanWrite()
    {
        Assert.Equal("""{"count":1,"label":"a"}""", VizData.From(new ButtonClick(1, "a")).ToJson());
        Assert.Equal("""{"time":1.5}""", VizData.From(new { time = 1.5 }).ToJson());
        Assert.Equal("""{"K":1}""", VizData.From(new Dictionary<string, int> { ["K"] = 1 }).ToJson());
        Assert.Equal("[1,2,3]", VizData.From(new List<int> { 1, 2, 3 }).ToJson());
        Assert.Equal("null", VizData.From(null).ToJson());
        Assert.Equal("\"s\"", VizData.From("s").ToJson());
    }

    [Fact]
    public void EqualityIsStructural()
    {
        Assert.Equal(VizData.Parse("""{"a":[1,{"b":null}]}"""), VizData.Parse("""{ "a" : [ 1, { "b" : null } ] }"""));
        Assert.NotEqual(VizData.Parse("""{"a":1}"""), VizData.Parse("""{"a":2}"""));
        Assert.True(VizData.Parse("1") == (VizData)1);
    }

    [Fact]
    public void MovingAValueIntoAnotherBagCopiesIt()
    {
        var source = VizData.Parse("""{"inner":{"x":1}}""");
        var target = new VizData { ["copy"] = source["inner"] };
        target["copy"]["x"] = 2;
        Assert.Equal(1, source["inner"].GetInt32("x"));
        Assert.Equal(2, target["copy"].GetInt32("x"));
    }

    [Fact]
    public void DuplicateKeysAreRejectedWhenParsing()
    {
        Assert.ThrowsAny<JsonException>(() => VizData.Parse("""{"a":1,"a":2}"""));
    }

    [Fact]
    public void SerializesAsTheJsonItHolds()
    {
        var payload = new { data = VizData.Parse("""{"a":[1,2]}"""), nothing = VizData.Null };
        Assert.Equal("""{"data":{"a":[1,2]},"nothing":null}""", JsonSerializer.Serialize(payload));
        Assert.Equal(VizData.Parse("[1,{\"b\":2}]"), JsonSerializer.Deserialize<VizData>("[1,{\"b\":2}]"));
    }
}
