namespace VizHtml.Events;

/// <summary>Copy-on-write handler array: delivery reads a snapshot without locking; add and remove are rare.</summary>
internal sealed class HandlerList<T>
    where T : class
{
    private readonly Lock _gate = new();
    private T[] _handlers = [];

    public T[] Snapshot => Volatile.Read(ref _handlers);

    public IDisposable Add(T handler)
    {
        lock (_gate)
        {
            _handlers = [.. _handlers, handler];
        }

        return new Subscription(this, handler);
    }

    private void Remove(T handler)
    {
        lock (_gate)
        {
            var index = Array.IndexOf(_handlers, handler);
            if (index >= 0)
            {
                _handlers = [.. _handlers.AsSpan(0, index), .. _handlers.AsSpan(index + 1)];
            }
        }
    }

    private sealed class Subscription(HandlerList<T> list, T handler) : IDisposable
    {
        private HandlerList<T>? _list = list;

        public void Dispose() => Interlocked.Exchange(ref _list, null)?.Remove(handler);
    }
}
