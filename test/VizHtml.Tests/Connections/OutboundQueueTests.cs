using VizHtml.Connections;

namespace VizHtml.Tests.Connections;

public sealed class OutboundQueueTests
{
    private static OutboundMessage Frame(int n) => OutboundMessage.Control(new byte[] { (byte)n }).WithSeq(n);

    private static bool TryWrite(OutboundQueue queue, OutboundMessage message) => queue.TryEnqueue(message, Wake.Inline) is Enqueued.Queued or Enqueued.Replaced;

    private static bool TryRead(OutboundQueue queue, out OutboundMessage message) => queue.TryDequeue(out message, out _, out _);

    [Fact]
    public void FramesComeOutInOrderThroughGrowthAndWrapAround()
    {
        var queue = new OutboundQueue(int.MaxValue, long.MaxValue);
        var next = 1;
        var expected = 1;
        for (var round = 0; round < 50; round++)
        {
            for (var i = 0; i < round % 7 + 1; i++)
            {
                Assert.True(TryWrite(queue, Frame(next++)));
            }

            for (var i = 0; i < round % 5 + 1 && TryRead(queue, out var frame); i++)
            {
                Assert.Equal(expected++, frame.Seq);
            }
        }

        while (TryRead(queue, out var frame))
        {
            Assert.Equal(expected++, frame.Seq);
        }

        Assert.Equal(next, expected);
    }

    [Fact]
    public async Task AWaitingReaderWakesForAWriteAndForCompletion()
    {
        var queue = new OutboundQueue(int.MaxValue, long.MaxValue);
        var wait = queue.WaitToReadAsync(CancellationToken.None).AsTask();
        Assert.False(wait.IsCompleted);
        TryWrite(queue, Frame(1));
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(TryRead(queue, out _));

        // Reused for the next wait.
        wait = queue.WaitToReadAsync(CancellationToken.None).AsTask();
        Assert.False(wait.IsCompleted);
        Assert.True(queue.TryComplete());
        Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.False(TryWrite(queue, Frame(2)));
        Assert.False(queue.TryComplete());
    }

    [Fact]
    public async Task WhatWasQueuedBeforeCompletionCanStillBeRead()
    {
        var queue = new OutboundQueue(int.MaxValue, long.MaxValue);
        TryWrite(queue, Frame(1));
        queue.TryComplete();
        Assert.True(await queue.WaitToReadAsync(CancellationToken.None));
        Assert.True(TryRead(queue, out var frame));
        Assert.Equal(1, frame.Seq);
        Assert.False(await queue.WaitToReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task CancellationEndsAWaitAndTheNextWaitStillWorks()
    {
        var queue = new OutboundQueue(int.MaxValue, long.MaxValue);
        using var cancel = new CancellationTokenSource();
        var wait = queue.WaitToReadAsync(cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await queue.WaitToReadAsync(cancel.Token));

        wait = queue.WaitToReadAsync(CancellationToken.None);
        TryWrite(queue, Frame(3));
        Assert.True(await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ManyWritersOneReaderLoseNothingAndKeepEachWritersOrder()
    {
        var queue = new OutboundQueue(int.MaxValue, long.MaxValue);
        const int Writers = 4;
        const int PerWriter = 20_000;
        var last = new long[Writers];
        var read = 0;
        var reader = Task.Run(async () =>
        {
            while (await queue.WaitToReadAsync(CancellationToken.None))
            {
                while (TryRead(queue, out var frame))
                {
                    var writer = (int)(frame.Seq / PerWriter / 10);
                    Assert.True(frame.Seq > last[writer]);
                    last[writer] = frame.Seq;
                    read++;
                }
            }
        });

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            for (var i = 1; i <= PerWriter; i++)
            {
                TryWrite(queue, OutboundMessage.Control(ReadOnlyMemory<byte>.Empty).WithSeq(((long)w * PerWriter * 10) + i));
            }
        })));
        queue.TryComplete();
        await reader.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Writers * PerWriter, read);
    }

    [Fact]
    public async Task ADeferredSendLeavesTheWriterWaitingUntilTheCallerWakesIt()
    {
        var queue = new OutboundQueue(int.MaxValue, long.MaxValue);
        var wait = queue.WaitToReadAsync(CancellationToken.None).AsTask();
        Assert.Equal(Enqueued.Queued, queue.TryEnqueue(Frame(1), Wake.Deferred));
        Assert.False(wait.IsCompleted);

        queue.WakeIfPending(Wake.Inline);
        Assert.True(wait.IsCompletedSuccessfully, "an inline wake runs the waiting reader on the calling thread");
        Assert.True(await wait);

        // Nothing queued: nothing to wake.
        Assert.True(TryRead(queue, out _));
        wait = queue.WaitToReadAsync(CancellationToken.None).AsTask();
        queue.WakeIfPending(Wake.Inline);
        Assert.False(wait.IsCompleted);
        queue.TryComplete();
        Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task AClaimedWakeRunsTheWriterOnlyWhenTheClaimantAppliesIt()
    {
        var queue = new OutboundQueue(int.MaxValue, long.MaxValue);
        var wait = queue.WaitToReadAsync(CancellationToken.None).AsTask();
        Assert.Equal(Enqueued.Queued, queue.TryEnqueueClaimingWake(Frame(1), out var claimed));
        Assert.True(claimed);
        Assert.False(wait.IsCompleted);

        // A second send finds the wake already claimed: it neither claims nor wakes.
        Assert.Equal(Enqueued.Queued, queue.TryEnqueueClaimingWake(Frame(2), out var again));
        Assert.False(again);
        queue.WakeIfPending(Wake.Inline);
        Assert.False(wait.IsCompleted);

        queue.WakeClaimed(Wake.Inline);
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Throws<ArgumentException>(() => queue.WakeClaimed(Wake.Deferred));
    }

    [Fact]
    public void TheBoundsRefuseAReliableMessageAsOverflowAndAVolatileOneAsDroppedButOneMessageAlwaysFits()
    {
        var queue = new OutboundQueue(maxMessages: 2, maxBytes: 10);
        var big = OutboundMessage.Event(new byte[100], VizDelivery.Reliable, "big");
        Assert.Equal(Enqueued.Queued, queue.TryEnqueue(big, Wake.Deferred));
        Assert.Equal(Enqueued.Overflowed, queue.TryEnqueue(OutboundMessage.Event(new byte[1], VizDelivery.Reliable, "r"), Wake.Deferred));
        Assert.Equal(Enqueued.Dropped, queue.TryEnqueue(OutboundMessage.Event(new byte[1], VizDelivery.Volatile, "v"), Wake.Deferred));
        Assert.Equal(1, queue.PendingMessages);
        Assert.Equal(100, queue.PendingBytes);
    }

    [Fact]
    public void ANewerLatestValueTakesThePlaceOfThePendingOne()
    {
        var queue = new OutboundQueue(int.MaxValue, long.MaxValue);
        Assert.Equal(Enqueued.Queued, queue.TryEnqueue(OutboundMessage.Event(new byte[] { 1 }, VizDelivery.Latest, "pose"), Wake.Deferred));
        Assert.Equal(Enqueued.Replaced, queue.TryEnqueue(OutboundMessage.Event(new byte[] { 2, 2 }, VizDelivery.Latest, "pose"), Wake.Deferred));
        Assert.Equal(1, queue.PendingMessages);
        Assert.Equal(2, queue.PendingBytes);
        Assert.True(queue.TryDequeue(out _, out var payload, out _));
        Assert.Equal(new byte[] { 2, 2 }, payload.ToArray());
        Assert.False(queue.TryDequeue(out _, out _, out _));
    }
}
