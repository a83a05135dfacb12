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

    [Fact]
    public void ArraysAndListsOfScalarsConvertImplicitlyToJsonArrays()
    {
        // Before these conversions existed, this initializer did not compile (CS0029).
        var d = new VizData
        {
            ["doubles"] = new[] { 1.5, -2.5 },
            ["ints"] = new[] { 1, 2 },
            ["longs"] = new[] { 9007199254740993L },
            ["bools"] = new[] { true, false },
            ["strings"] = new[] { "a", null },
            ["doubleList"] = new List<double> { 0.25 },
            ["intList"] = new List<int> { 3, 4 },
            ["longList"] = new List<long> { -1L },
            ["boolList"] = new List<bool> { true },
            ["names"] = new List<string> { "a", "b" },
            ["empty"] = Array.Empty<int>(),
        };

        Assert.Equal(
            """{"doubles":[1.5,-2.5],"ints":[1,2],"longs":[9007199254740993],"bools":[true,false],"strings":["a",null],"doubleList":[0.25],"intList":[3,4],"longList":[-1],"boolList":[true],"names":["a","b"],"empty":[]}""",
            d.ToJson());
        Assert.All(d.Names, name => Assert.Equal(VizDataKind.Array, d[name].Kind));
    }

    [Fact]
    public void ArraysBuiltInCodeReadBackLikeReceivedOnes()
    {
        var d = new VizData { ["pos"] = new[] { 1.5, 2.5 }, ["names"] = new List<string> { "a", "b" }, ["ids"] = new List<int> { 7, 8 } };
        dynamic dyn = d;

        Assert.Equal(1.5, (double)dyn.pos[0]);
        Assert.Equal("b", (string)dyn.names[1]);
        Assert.Equal(2, (int)dyn.names.Count);
        Assert.Equal(8, (int)d["ids"][1]);
        Assert.Equal([1.5, 2.5], d["pos"].As<double[]>());
        Assert.Equal(["a", "b"], d.Get<List<string>>("names"));
        Assert.Equal([7, 8], d["ids"].AsList().Select(v => v.GetInt32()));
        Assert.Equal(VizData.Parse("""{"pos":[1.5,2.5],"names":["a","b"],"ids":[7,8]}"""), d);
    }

    [Fact]
    public void ArraysOfBagsNestAndAreCopiedNotMoved()
    {
        var point = new VizData { ["x"] = 1 };
        var d = new VizData { ["points"] = new[] { point, VizData.Null }, ["again"] = new List<VizData> { point } };

        point["x"] = 99;

        Assert.Equal("""{"points":[{"x":1},null],"again":[{"x":1}]}""", d.ToJson());
        Assert.Equal(1, (int)d["points"][0]["x"]);
    }

    [Fact]
    public void ANullArrayOrListIsJsonNull()
    {
        double[]? noArray = null;
        List<string>? noList = null;
        var d = new VizData { ["a"] = noArray, ["l"] = noList };

        Assert.True(d["a"].IsNull);
        Assert.True(d["l"].IsNull);
        Assert.Equal("""{"a":null,"l":null}""", d.ToJson());
    }

    [Fact]
    public void ArraysConvertWhereverAVizDataIsExpected()
    {
        VizData fromArray = new[] { 1, 2 };
        VizData fromList = new List<string> { "x" };
        var list = VizData.NewArray();
        list.Add(new[] { 3, 4 });

        Assert.Equal("[1,2]", fromArray.ToJson());
        Assert.Equal("""["x"]""", fromList.ToJson());
        Assert.Equal("[[3,4]]", list.ToJson());
    }

    /// <summary>A received value keeps its text until read: passed on untouched it is written as it came, once read or changed it is the tree.</summary>
    [Fact]
    public void AReceivedValueIsWrittenAsItsTextUntilReadAndAsItsTreeAfter()
    {
        var envelope = new VizHtml.Protocol.EnvelopeReader(64).Read("{\"event\":\"e\",\"data\":{\"a\" : [1, 2], \"s\":\"é\"}}"u8.ToArray());
        var data = envelope.Data!;

        // Untouched: the bytes it arrived in (the default encoder would have escaped the é, the spaces would be gone).
        Assert.Equal("{\"a\" : [1, 2], \"s\":\"é\"}", JsonSerializer.Serialize(data));

        // Read, then changed: written from the tree.
        Assert.Equal([1, 2], data.Get<int[]>("a"));
        Assert.Equal(VizDataKind.Object, data.Kind);
        data["b"] = 3;
        Assert.Equal("{\"a\":[1,2],\"s\":\"\\u00E9\",\"b\":3}", JsonSerializer.Serialize(data));
        Assert.Equal(VizData.Parse("{\"a\":[1,2],\"s\":\"é\",\"b\":3}"), data);
    }

    [Fact]
    public void AReceivedValueBindsStraightFromItsText()
    {
        var envelope = new VizHtml.Protocol.EnvelopeReader(64).Read("{\"event\":\"e\",\"data\":{\"count\":2,\"label\":\"go\"}}"u8.ToArray());
        Assert.Equal(new ButtonClick(2, "go"), envelope.Data!.As<ButtonClick>());
        Assert.Equal("{\"count\":2,\"label\":\"go\"}", JsonSerializer.Serialize(envelope.Data));
        Assert.Equal(2, envelope.Data.GetInt32("count"));
    }
}
