using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using VizHtml.Protocol;

namespace VizHtml.Tests.Protocol;

/// <summary>Binary messages in both directions: the serializer's parts and placeholders, the text form, and decoding.</summary>
public sealed class BinaryEnvelopeTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private readonly EnvelopeSerializer _serializer = new(Web, new BinaryJson(Web));

    [Fact]
    public void DataWithoutBytesIsTheSameTextEnvelopeAsWithoutParts()
    {
        var data = new { label = "x", values = new[] { 1, 2 } };
        var payload = _serializer.SerializeWithParts("e", data);

        Assert.False(BinaryPayload.TryGet(payload, out _));
        Assert.Equal(_serializer.Serialize("e", data), payload.ToArray());
    }

    [Fact]
    public void BytesBecomePartsInOrderWithPlaceholdersAndTheirLengthsInBin()
    {
        byte[] a = [1, 2, 3];
        var b = new ReadOnlyMemory<byte>([9, 8]);
        var payload = _serializer.SerializeWithParts("e", new { a, nested = new { b, more = new[] { new byte[] { 7 } } } });

        Assert.True(BinaryPayload.TryGet(payload, out var binary));
        var wire = payload.ToArray();
        var length = BinaryPrimitives.ReadInt32BigEndian(wire);
        Assert.Equal(
            """{"event":"e","data":{"a":{"$bin":0},"nested":{"b":{"$bin":1},"more":[{"$bin":2}]}},"bin":[3,2,1]}""",
            Encoding.UTF8.GetString(wire, 4, length));
        Assert.Equal([1, 2, 3, 9, 8, 7], wire[(4 + length)..]);
        Assert.Equal(length, binary.HeaderLength);
    }

    [Fact]
    public void TheTextFormIsByteForByteWhatSystemTextJsonWritesForTheBytes()
    {
        var data = new { image = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray(), label = "+/=", depth = (ReadOnlyMemory<byte>)new byte[] { 0xfb, 0xff } };
        Assert.True(BinaryPayload.TryGet(_serializer.SerializeWithParts("e", data), out var binary));

        Assert.Equal(JsonSerializer.Serialize(new { @event = "e", data }, Web), Encoding.UTF8.GetString(binary.Text.Span));
        Assert.True(binary.Text.Equals(binary.Text), "the text form is made once and shared");
    }

    [Fact]
    public void RentedOptionsDoNotCarryOnePayloadsPartsIntoTheNext()
    {
        for (var i = 0; i < 50; i++)
        {
            Assert.True(BinaryPayload.TryGet(_serializer.SerializeWithParts("e", new[] { new byte[] { (byte)i } }), out var binary));
            Assert.Equal([(byte)i], binary.Parts.ToArray());
        }
    }

    [Fact]
    public void ABinaryMessageDecodesToItsEnvelopeAndPartsWhichBindToByteMembers()
    {
        var payload = _serializer.SerializeWithParts("shape", new { name = "s", blob = new byte[] { 1, 2, 3 }, small = (ReadOnlyMemory<byte>)new byte[] { 4 } });
        var envelope = BinaryEnvelope.Read(new EnvelopeReader(64), payload);

        Assert.True(envelope.IsValid, envelope.ErrorMessage);
        Assert.Equal("shape", envelope.EventName);
        Assert.Equal(2, envelope.Parts!.Count);
        var shape = new BinaryJson(Web).Bind<Shape>(envelope.Data!, envelope.Parts);
        Assert.Equal("s", shape.Name);
        Assert.Equal([1, 2, 3], shape.Blob);
        Assert.Equal([4], shape.Small.ToArray());
    }

    public sealed record Shape(string Name, byte[] Blob, ReadOnlyMemory<byte> Small);

    [Theory]
    [InlineData(new byte[] { 0, 0, 1 })]
    [InlineData(new byte[] { 0, 0, 0, 200, (byte)'{', (byte)'}' })]
    [InlineData(new byte[] { 0, 0, 0, 2, (byte)'{', (byte)'}' })]
    public void AMalformedBinaryMessageIsAnInvalidEnvelopeOrInvalidJson(byte[] message)
    {
        var envelope = BinaryEnvelope.Read(new EnvelopeReader(64), message);
        Assert.False(envelope.IsValid);
        Assert.Contains(envelope.ErrorCode, new[] { ProtocolErrors.InvalidEnvelope, ProtocolErrors.InvalidJson });
    }

    [Theory]
    [InlineData("""{"event":"e","data":1}""", 0)]
    [InlineData("""{"event":"e","data":1,"bin":[2]}""", 1)]
    [InlineData("""{"event":"e","data":1,"bin":[1]}""", 2)]
    [InlineData("""{"event":"e","data":1,"bin":[-1]}""", 0)]
    [InlineData("""{"event":"e","data":1,"bin":"3"}""", 3)]
    [InlineData("""{"event":"$ack","data":{"seq":1},"bin":[]}""", 0)]
    public void ABinaryMessageWhosePartsDoNotAddUpIsAnInvalidEnvelope(string header, int trailing)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var message = new byte[4 + json.Length + trailing];
        BinaryPrimitives.WriteInt32BigEndian(message, json.Length);
        json.CopyTo(message, 4);

        var envelope = BinaryEnvelope.Read(new EnvelopeReader(64), message);
        Assert.Equal(ProtocolErrors.InvalidEnvelope, envelope.ErrorCode);
    }
}
