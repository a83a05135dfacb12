using System.Buffers;

namespace VizHtml.Connections;

/// <summary>
/// The bytes of the message one connection is receiving, charged to the server's <see cref="MessageAssemblyLimits"/>. The
/// first 4 KiB go into a pooled buffer that is not charged: most messages fit in it, and the connection caps bound it. A
/// longer message goes on in 64 KiB chunks, each charged before it is taken, so growing never copies and never leaves a
/// discarded buffer behind; a message longer than one chunk is copied, once complete, into one array of its exact length
/// (JSON is parsed from contiguous bytes). Chunks come from <see cref="ArrayPool{T}.Shared"/>, which keeps
/// a bounded few of that size per core; the whole-message arrays are allocated and dropped, since the shared pool would
/// keep dozens of each large size per core after a burst (measured: 2.7 GB still held after 60 unfinished 16 MiB messages
/// had closed and a full collection ran). The read loop's own: not thread-safe.
/// </summary>
internal sealed class MessageBuffer(MessageAssemblyLimits limits, string address)
{
    public const int FirstBytes = 4096;
    public const int ChunkBytes = 64 * 1024;

    private readonly List<byte[]> _fullChunks = [];
    private MessageAssemblyLimits.AddressShare? _share;
    private byte[]? _current;
    private int _written;
    private long _charged;

    /// <summary>The bytes received so far.</summary>
    public int Length { get; private set; }

    /// <summary>The most one message of <paramref name="maxMessageBytes"/> charges: its chunks up to one byte past the limit, where it is refused.</summary>
    public static long PeakBytes(int maxMessageBytes) =>
        maxMessageBytes < FirstBytes ? 0 : (maxMessageBytes + 1L + ChunkBytes - 1) / ChunkBytes * ChunkBytes;

    /// <summary>
    /// Where the next read goes, so that the message stays within <paramref name="limit"/> bytes; <see langword="false"/>
    /// when it needs another chunk and the budget has no room (<paramref name="refusal"/> says whose).
    /// </summary>
    public bool TryGetWindow(int limit, out Memory<byte> window, out Refusal refusal)
    {
        refusal = Refusal.None;
        if (_current is null)
        {
            _current = ArrayPool<byte>.Shared.Rent(FirstBytes);
        }
        else if (_written == _current.Length)
        {
            refusal = Charge(ChunkBytes);
            if (refusal != Refusal.None)
            {
                window = default;
                return false;
            }

            var chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            if (Length == FirstBytes)
            {
                // The first chunk starts with the first buffer's bytes, so a message of up to 64 KiB is contiguous without a copy.
                _current.CopyTo(chunk, 0);
                ArrayPool<byte>.Shared.Return(_current);
            }
            else
            {
                _fullChunks.Add(_current);
                _written = 0;
            }

            _current = chunk;
        }

        window = _current.AsMemory(_written, Math.Min(_current.Length - _written, limit - Length));
        return true;
    }

    /// <summary>Counts <paramref name="count"/> bytes just read into the window.</summary>
    public void Advance(int count)
    {
        _written += count;
        Length += count;
    }

    /// <summary>
    /// The complete message as contiguous bytes, valid until <see cref="Clear"/>. A message in more than one chunk is copied
    /// into one array, which takes over the chunks' charge (it is no larger) as they go back to the pool. Chunks and copy
    /// both exist only while the copy runs, and it runs without awaiting: at most one such moment per running thread.
    /// </summary>
    public ReadOnlyMemory<byte> GetMessage()
    {
        if (_fullChunks.Count == 0)
        {
            return _current is null ? ReadOnlyMemory<byte>.Empty : _current.AsMemory(0, _written);
        }

        var whole = GC.AllocateUninitializedArray<byte>(Length);
        var offset = 0;
        foreach (var chunk in _fullChunks)
        {
            chunk.CopyTo(whole, offset);
            offset += chunk.Length;
        }

        _current!.AsSpan(0, _written).CopyTo(whole.AsSpan(offset));
        ReturnChunks();
        return whole;
    }

    /// <summary>Gives back every buffer (the pooled ones to the pool, a whole-message copy to the collector) and every byte charged.</summary>
    public void Clear()
    {
        ReturnChunks();
        if (_charged != 0)
        {
            limits.Release(_share!, _charged);
            _charged = 0;
        }

        Length = 0;
    }

    /// <summary>Clears and leaves the address's share, when the connection ends.</summary>
    public void Close()
    {
        Clear();
        if (_share is not null)
        {
            limits.Leave(_share);
            _share = null;
        }
    }

    private Refusal Charge(long bytes)
    {
        _share ??= limits.Join(address);
        var refusal = limits.TryCharge(_share, bytes);
        if (refusal == Refusal.None)
        {
            _charged += bytes;
        }

        return refusal;
    }

    private void ReturnChunks()
    {
        foreach (var chunk in _fullChunks)
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        _fullChunks.Clear();
        if (_current is not null)
        {
            ArrayPool<byte>.Shared.Return(_current);
            _current = null;
        }

        _written = 0;
    }
}
