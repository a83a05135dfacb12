using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VizHtml.Protocol;

namespace VizHtml.Tests.Protocol;

public sealed class EnvelopeTests
{
    private readonly EnvelopeReader _reader = new(maxDepth: 16);

    [Fact]
    public void ReadsEventAndDataInAnyMemberOrderAndIgnoresUnknownMembers()
    {
        var envelope = Read("""{"data":{"a":[1,2]},"seq":5,"event":"move"}""");
        Assert.True(envelope.IsValid);
        Assert.Equal("move", envelope.EventName);
        Assert.Equal("""{"a":[1,2]}""", envelope.DataNode!.ToJsonString());
    }

    [Fact]
    public void EventNamesUsedAgainAreTheSameStringAndEveryNameReadsBackExactly()
    {
        Assert.Same(Read("""{"event":"move"}""").EventName, Read("""{"event":"move","data":1}""").EventName);

        // More names than the reader remembers, twice over, some sharing length and first and last letters.
        var names = Enumerable.Range(0, 300).Select(i => $"n{i}x").Concat(["a", "ab", "ba", "é", "\u00e9"]).ToArray();
        foreach (var name in names.Concat(names))
        {
            var expected = name == "\u00e9" ? "é" : name;
            Assert.Equal(expected, Read($$"""{"event":"{{name}}"}""").EventName);
        }
    }

    [Fact]
    public void MissingDataIsNull()
    {
        var envelope = Read("""{"event":"ping"}""");
        Assert.True(envelope.IsValid);
        Assert.Null(envelope.Data);
    }

    [Theory]
    [InlineData("", ProtocolErrors.InvalidJson)]
    [InlineData("{", ProtocolErrors.InvalidJson)]
    [InlineData("{\"event\":\"a\",\"event\":\"b\"}", ProtocolErrors.InvalidJson)]
    [InlineData("null", ProtocolErrors.InvalidEnvelope)]
    [InlineData("[]", ProtocolErrors.InvalidEnvelope)]
    [InlineData("{\"event\":null}", ProtocolErrors.InvalidEnvelope)]
    [InlineData("{\"event\":[\"a\"]}", ProtocolErrors.InvalidEnvelope)]
    [InlineData("{\"event\":\"$resume\"}", ProtocolErrors.InvalidEventName)]
    [InlineData("{\"event\":\"a\\u0000b\"}", ProtocolErrors.InvalidEventName)]
    public void RejectsWhatIsNotAnEnvelopeWithACode(string text, string code)
    {
        var envelope = Read(text);
        Assert.False(envelope.IsValid);
        Assert.Equal(code, envelope.ErrorCode);
        Assert.False(string.IsNullOrEmpty(envelope.ErrorMessage));
    }

    [Fact]
    public void RejectsNestingDeeperThanTheLimit()
    {
        Assert.True(Read("{\"event\":\"a\",\"data\":" + new string('[', 14) + new string(']', 14) + "}").IsValid);
        Assert.Equal(ProtocolErrors.InvalidJson, Read("{\"event\":\"a\",\"data\":" + new string('[', 16) + new string(']', 16) + "}").ErrorCode);
    }

    [Fact]
    public void RejectsOverlongEventNames()
    {
        var name = new string('e', Envelope.MaxEventNameLength + 1);
        Assert.Equal(ProtocolErrors.InvalidEventName, Read($"{{\"event\":\"{name}\"}}").ErrorCode);
        Assert.True(Read($"{{\"event\":\"{name[1..]}\"}}").IsValid);
    }

    [Fact]
    public void SerializerWritesTheEnvelopeWithCamelCaseByDefault()
    {
        var serializer = new EnvelopeSerializer(new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var bytes = serializer.Serialize("set_time", new { Time = 1.5, Name = "ü" });
        var node = JsonNode.Parse(bytes)!;
        Assert.Equal("set_time", node["event"]!.GetValue<string>());
        Assert.Equal(1.5, node["data"]!["time"]!.GetValue<double>());
        Assert.Equal("ü", node["data"]!["name"]!.GetValue<string>());
        Assert.Equal("""{"event":"x","data":null}""", Encoding.UTF8.GetString(serializer.Serialize("x", null)));
    }

    [Fact]
    public void ErrorEnvelopeCarriesCodeAndMessage()
    {
        var node = JsonNode.Parse(EnvelopeSerializer.SerializeError("invalid_json", "bad \"input\""))!;
        Assert.Equal("$error", node["event"]!.GetValue<string>());
        Assert.Equal("invalid_json", node["data"]!["code"]!.GetValue<string>());
        Assert.Equal("bad \"input\"", node["data"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public void SerializingFromInsideAConverterDoesNotCorruptTheOuterEnvelope()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var serializer = new EnvelopeSerializer(options);
        options.Converters.Add(new SendingConverter(serializer));
        var first = serializer.Serialize("outer", new Nested("x"));
        var second = serializer.Serialize("again", 2);
        var outer = JsonNode.Parse(first)!;
        Assert.Equal("outer", outer["event"]!.GetValue<string>());
        Assert.Equal("""{"event":"inner","data":"x"}""", outer["data"]!.GetValue<string>());
        Assert.Equal("""{"event":"again","data":2}""", Encoding.UTF8.GetString(second));
    }

    [Fact]
    public void ALargeEnvelopeAndTheSmallOneAfterItAreBothWhole()
    {
        var serializer = new EnvelopeSerializer(new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var large = new string('l', 200_000);
        Assert.Equal(large, JsonNode.Parse(serializer.Serialize("big", large))!["data"]!.GetValue<string>());
        Assert.Equal("""{"event":"small","data":1}""", Encoding.UTF8.GetString(serializer.Serialize("small", 1)));
    }

    private sealed record Nested(string Value);

    // A converter that itself serializes an envelope, as one that sends from inside serialization would.
    private sealed class SendingConverter(EnvelopeSerializer serializer) : System.Text.Json.Serialization.JsonConverter<Nested>
    {
        public override Nested Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

        public override void Write(Utf8JsonWriter writer, Nested value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Encoding.UTF8.GetString(serializer.Serialize("inner", value.Value)));
    }

    [Theory]
    [InlineData("""{"event":"$ack","data":{"seq":0}}""", 0L)]
    [InlineData("""{"event":"$ack","data":{"seq":7}}""", 7L)]
    [InlineData("""{"event":"$ack","data":{"seq":123456789012345678}}""", 123456789012345678L)]
    public void TheUsualAckIsReadWithoutADocument(string text, long seq)
    {
        var envelope = Read(text);
        Assert.True(envelope.IsValid);
        Assert.True(envelope.IsControl);
        Assert.Equal("$ack", envelope.EventName);
        Assert.Equal(seq, envelope.AckSeq);
        Assert.Null(envelope.Data);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(987654321012345678L)]
    public void TheServersOwnAckIsTheFormTheFastPathReads(long seq)
    {
        var ack = Envelope.Ack(seq);
        Assert.True(EnvelopeReader.TryReadAck(ack, out var read));
        Assert.Equal(seq, read);
        Assert.Equal(seq, JsonNode.Parse(ack)!["data"]!["seq"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("""{"event":"$ack","data":{"seq":01}}""", false)]
    [InlineData("""{"event":"$ack","data":{"seq":-1}}""", true)]
    [InlineData("""{"event":"$ack","data":{"seq":1.5}}""", true)]
    [InlineData("""{"event":"$ack","data":{"seq":}}""", false)]
    [InlineData("""{"event":"$ack","data":{"seq":1}} """, true)]
    [InlineData("""{"event":"$ack", "data":{"seq":1}}""", true)]
    [InlineData("""{"event":"$ack","data":{"seq":1},"x":1}""", true)]
    public void AnyOtherFormOfAckTakesTheGeneralPath(string text, bool validJson)
    {
        Assert.False(EnvelopeReader.TryReadAck(Encoding.UTF8.GetBytes(text), out _));
        var envelope = Read(text);
        Assert.Equal(-1, envelope.AckSeq);
        Assert.Equal(validJson, envelope.IsValid);
    }

    private InboundEnvelope Read(string text) => _reader.Read(Encoding.UTF8.GetBytes(text));
}
