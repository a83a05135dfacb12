using System.Text;
using System.Text.Json.Nodes;
using VizHtml.Connections;

namespace VizHtml.Tests.Connections;

public sealed class OutboundBatchTests
{
    private static readonly byte[] A = """{"event":"a","data":1}"""u8.ToArray();
    private static readonly byte[] B = """{"event":"b","data":"x"}"""u8.ToArray();

    [Fact]
    public void ALoneUnnumberedMessageIsSentFromItsOwnBytes()
    {
        var batch = new OutboundBatch();
        Assert.True(batch.TryAdd(0, A, null));
        Assert.True(batch.Frame.Span.SequenceEqual(A));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(batch.Frame, out var segment) && ReferenceEquals(segment.Array, A));
    }

    [Fact]
    public void ANumberedMessageGetsItsSeqInFront()
    {
        var batch = new OutboundBatch();
        batch.TryAdd(42, A, null);
        Assert.Equal("""{"seq":42,"event":"a","data":1}""", Text(batch));
    }

    [Fact]
    public void SeveralMessagesBecomeOneArrayInOrder()
    {
        var batch = new OutboundBatch();
        batch.TryAdd(0, A, null);
        batch.TryAdd(7, B, null);
        batch.TryAdd(long.MaxValue, A, null);
        Assert.Equal(3, batch.Count);
        Assert.Equal(A.Length + B.Length + A.Length, batch.PayloadBytes);
        var array = Assert.IsType<JsonArray>(JsonNode.Parse(Text(batch)));
        Assert.Equal(
            ["""{"event":"a","data":1}""", """{"seq":7,"event":"b","data":"x"}""", $$"""{"seq":{{long.MaxValue}},"event":"a","data":1}"""],
            array.Select(e => e!.ToJsonString()));
    }

    [Fact]
    public void ABatchRefusesWhatWouldTakeItPastItsBoundButTakesOneLargeMessageAlone()
    {
        var large = Encoding.UTF8.GetBytes($$"""{"event":"l","data":"{{new string('x', OutboundBatch.MaxBytes * 2)}}"}""");
        var batch = new OutboundBatch();
        Assert.True(batch.TryAdd(1, large, null));
        Assert.False(batch.TryAdd(2, A, null));
        Assert.Equal(1, batch.Count);
        batch.Complete();

        var chunk = Encoding.UTF8.GetBytes($$"""{"event":"c","data":"{{new string('x', 1000)}}"}""");
        var added = 0;
        while (batch.TryAdd(++added, chunk, null))
        {
        }

        Assert.True(batch.Frame.Length <= OutboundBatch.MaxBytes);
        Assert.Equal(added - 1, Assert.IsType<JsonArray>(JsonNode.Parse(Text(batch))).Count);
    }

    [Fact]
    public async Task CompletingReportsEveryMessageDeliveredAndEmptiesTheBatch()
    {
        var batch = new OutboundBatch();
        var first = new TaskCompletionSource<bool>();
        var second = new TaskCompletionSource<bool>();
        batch.TryAdd(1, A, first);
        batch.TryAdd(2, B, null);
        batch.TryAdd(3, A, second);
        batch.Complete();
        Assert.True(await first.Task);
        Assert.True(await second.Task);
        Assert.Equal(0, batch.Count);
        Assert.Equal(0, batch.PayloadBytes);

        batch.TryAdd(0, B, null);
        Assert.Equal(Encoding.UTF8.GetString(B), Text(batch));
    }

    [Fact]
    public async Task AbandoningReportsEveryMessageUndelivered()
    {
        var batch = new OutboundBatch();
        var first = new TaskCompletionSource<bool>();
        var second = new TaskCompletionSource<bool>();
        batch.TryAdd(0, A, first);
        batch.TryAdd(0, B, second);
        batch.Abandon();
        Assert.False(await first.Task);
        Assert.False(await second.Task);
        Assert.Equal(0, batch.Count);
    }

    private static string Text(OutboundBatch batch) => Encoding.UTF8.GetString(batch.Frame.Span);
}
