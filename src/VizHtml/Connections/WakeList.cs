namespace VizHtml.Connections;

/// <summary>
/// The writers one broadcast found waiting, passed explicitly to each enqueue (<see cref="Wake.Into"/>) and woken
/// together afterwards: from one thread-pool work item (<see cref="WakeFromThreadPool"/>), which runs each writer's drain
/// and write in turn, so a broadcast to N idle clients costs one thread-pool hop instead of N. A list threaded through
/// the queues themselves, so it allocates nothing per client; pooled.
/// </summary>
internal sealed class WakeList : IThreadPoolWorkItem
{
    private static readonly System.Collections.Concurrent.ConcurrentQueue<WakeList> Pool = new();

    private OutboundQueue? _head;
    private OutboundQueue? _tail;

    private WakeList()
    {
    }

    public int Count { get; private set; }

    public static WakeList Rent() => Pool.TryDequeue(out var list) ? list : new WakeList();

    public void Add(OutboundQueue queue)
    {
        if (_tail is null)
        {
            _head = queue;
        }
        else
        {
            _tail.NextToWake = queue;
        }

        _tail = queue;
        Count++;
    }

    /// <summary>Wakes every writer in the list from one thread-pool work item and gives the list back to the pool.</summary>
    public void WakeFromThreadPool()
    {
        if (Count == 0)
        {
            Return(this);
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        var queue = _head;
        _head = _tail = null;
        Count = 0;
        while (queue is not null)
        {
            // Unlinked before the wake: the woken writer may wait again and join another list at once.
            var next = queue.NextToWake;
            queue.NextToWake = null;
            queue.RunWriterHere();
            queue = next;
        }

        Return(this);
    }

    private static void Return(WakeList list)
    {
        if (Pool.Count < 64)
        {
            Pool.Enqueue(list);
        }
    }
}
