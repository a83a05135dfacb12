using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VizHtml.Protocol;

namespace VizHtml.Tests.Protocol;

/// <summary>The <c>req</c> member and <c>$reply</c> of requests (docs/protocol.md), read and written.</summary>
public sealed class RequestEnvelopeTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly EnvelopeReader _reader = new(maxDepth: 16);

    [Theory]
    [InlineData("""{"event":"start","data":1,"seq":7,"req":3}""", 3)]
    [InlineData("""{"req":9007199254740991,"event":"start"}""", 9007199254740991)]
    [InlineData("""{"event":"start","data":1}""", 0)]
    [InlineData("""{"event":"start","req":0}""", -1)]
    [InlineData("""{"event":"start","req":-4}""", -1)]
    [InlineData("""{"event":"start","req":1.5}""", -1)]
    [InlineData("""{"event":"start","req":"3"}""", -1)]
    [InlineData("""{"event":"start","req":null}""", -1)]
    public void TheReaderTakesReqAsAPositiveWholeNumberAndMarksAnythingElse(string text, long req)
    {
        var envelope = _reader.Read(Encoding.UTF8.GetBytes(text));

        // A bad req is still a valid envelope: only a client granted requests is told, and any other ignores it as before.
        Assert.True(envelope.IsValid);
        Assert.Equal(req, envelope.Req);
    }

    [Fact]
    public void ReplyIsAReservedNameTheReaderAcceptsFromAClient()
    {
        var envelope = _reader.Read("""{"event":"$reply","data":{"req":1,"value":2},"seq":4}"""u8.ToArray());

        Assert.True(envelope.IsValid);
        Assert.True(envelope.IsControl);
        Assert.Equal(4, envelope.Seq);
    }

    [Fact]
    public void ARequestIsWrittenAsAnEventWithReqAndSeq()
    {
        var text = Encoding.UTF8.GetString(RequestEnvelope.Request("confirm", new { Question = "go?" }, req: 9, Web, seq: 12));

        Assert.Equal("""{"event":"confirm","data":{"question":"go?"},"seq":12,"req":9}""", text);
        Assert.Equal("""{"event":"confirm","data":null,"req":1}""", Encoding.UTF8.GetString(RequestEnvelope.Request("confirm", null, 1, Web)));
    }

    [Fact]
    public void RepliesAreWrittenWithAValueOrAnErrorAndReadBack()
    {
        var value = Encoding.UTF8.GetString(RequestEnvelope.Reply(3, new { Total = 5 }, Web));
        var error = Encoding.UTF8.GetString(RequestEnvelope.ReplyError(4, "busy", "the rig is \"busy\"", seq: 2));

        Assert.Equal("""{"event":"$reply","data":{"req":3,"value":{"total":5}}}""", value);
        Assert.Equal("""{"event":"$reply","data":{"req":4,"error":{"code":"busy","message":"the rig is \u0022busy\u0022"}},"seq":2}""", error);
        Assert.True(RequestEnvelope.TryReadReply(JsonNode.Parse(value)!["data"], out var answer));
        Assert.Equal((3L, """{"total":5}""", (string?)null), (answer.Req, answer.Value!.ToJsonString(), answer.ErrorCode));
        Assert.True(RequestEnvelope.TryReadReply(JsonNode.Parse(error)!["data"], out var failure));
        Assert.Equal((4L, "busy", "the rig is \"busy\""), (failure.Req, failure.ErrorCode, failure.ErrorMessage));
    }

    [Theory]
    [InlineData("""{"req":2}""", true)]
    [InlineData("""{"req":2,"value":null}""", true)]
    [InlineData("""{"req":2,"error":{"code":"x"}}""", true)]
    [InlineData("""{"value":1}""", false)]
    [InlineData("""{"req":0,"value":1}""", false)]
    [InlineData("""{"req":"2","value":1}""", false)]
    [InlineData("""{"req":2,"error":"x"}""", false)]
    [InlineData("""{"req":2,"error":{"code":3}}""", false)]
    [InlineData("""[2]""", false)]
    [InlineData("""null""", false)]
    public void AReplyNeedsAPositiveReqAndAnErrorNeedsAStringCode(string data, bool valid)
    {
        Assert.Equal(valid, RequestEnvelope.TryReadReply(JsonNode.Parse(data), out _));
    }
}
