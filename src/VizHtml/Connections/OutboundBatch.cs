using System.Buffers;
using System.Globalization;

namespace VizHtml.Connections;

/// <summary>
/// The messages a connection's write loop has drained and will write as one frame: a single envelope as it is, or for a
/// client that announced batching, a JSON array of envelopes. A numbered message gets its client's <c>"seq"</c> written in
/// front of the payload it shares with every other recipient. The buffer is pooled and goes back after each write, so
/// an idle connection holds none.
/// </summary>
internal sealed class OutboundBatch
{
    /// <summary>A batch stops growing at this size; one larger message still goes alone.</summary>
    public const int MaxBytes = 64 * 1024;

    private const int MinRent = 16 * 1024;

    // "{"seq":" + up to 20 digits + ",": what numbering adds to a payload, at most.
    internal const int SeqOverhead = 28;

    private byte[]? _buffer;

    // Bytes written at _buffer[1..]; index 0 is kept for the '[' of an array.
    private int _length;

    // A lone unnumbered payload is sent from where it is, without a copy, unless a second message joins it.
    private ReadOnlyMemory<byte> _single;
    private TaskCompletionSource<bool>? _firstDelivered;
    private List<TaskCompletionSource<bool>>? _moreDelivered;

    /// <summary>Messages in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>The queued size of those messages (their shared payloads, without numbering).</summary>
    public long PayloadBytes { get; private set; }

    /// <summary>
    /// Adds a message; <see langword="false"/> when the batch is not empty and the message would take it past
    /// <see cref="MaxBytes"/> (flush, then add it again).
    /// </summary>
    public bool TryAdd(long seq, ReadOnlyMemory<byte> payload, TaskCompletionSource<bool>? delivered)
    {
        if (Count == 0 && seq <= 0)
        {
            _single = payload;
        }
        else
        {
            var needed = payload.Length + (seq > 0 ? SeqOverhead : 0) + 2;
            if (Count > 0 && Size + needed > MaxBytes)
            {
                return false;
            }

            if (Count == 1 && !_single.IsEmpty)
            {
                Append(0, _single, first: true);
                _single = default;
            }

            Append(seq, payload, first: Count == 0);
        }

        if (delivered is not null)
        {
            if (_firstDelivered is null)
            {
                _firstDelivered = delivered;
            }
            else
            {
                (_moreDelivered ??= []).Add(delivered);
            }
        }

        Count++;
        PayloadBytes += payload.Length;
        return true;
    }

    /// <summary>The frame to write: the lone envelope, or <c>[e1,e2,…]</c>.</summary>
    public ReadOnlyMemory<byte> Frame
    {
        get
        {
            if (Count == 1)
            {
                return _buffer is null || _length == 0 ? _single : _buffer.AsMemory(1, _length);
            }

            _buffer![0] = (byte)'[';
            _buffer[1 + _length] = (byte)']';
            return _buffer.AsMemory(0, _length + 2);
        }
    }

    private int Size => _single.IsEmpty ? _length : _single.Length;

    /// <summary>After a successful write: reports the messages delivered and empties the batch.</summary>
    public void Complete() => Reset(delivered: true);

    /// <summary>After a failed or abandoned write: reports the messages undelivered and empties the batch.</summary>
    public void Abandon() => Reset(delivered: false);

    private void Append(long seq, ReadOnlyMemory<byte> payload, bool first)
    {
        var needed = 1 + _length + payload.Length + (seq > 0 ? SeqOverhead : 0) + 2;
        if (_buffer is null || _buffer.Length < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, MinRent));
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, 1 + _length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = larger;
        }

        var span = _buffer.AsSpan(1 + _length);
        var at = 0;
        if (!first)
        {
            span[at++] = (byte)',';
        }

        if (seq > 0)
        {
            at += WriteNumbered(span[at..], seq, payload.Span);
        }
        else
        {
            payload.Span.CopyTo(span[at..]);
            at += payload.Length;
        }

        _length += at;
    }

    private void Reset(bool delivered)
    {
        _firstDelivered?.TrySetResult(delivered);
        if (_moreDelivered is { Count: > 0 })
        {
            foreach (var completion in _moreDelivered)
            {
                completion.TrySetResult(delivered);
            }

            _moreDelivered.Clear();
        }

        _firstDelivered = null;
        _single = default;
        _length = 0;
        Count = 0;
        PayloadBytes = 0;
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    /// <summary>
    /// Writes a shared envelope numbered for one client: <c>{"seq":N,</c>, then <paramref name="envelope"/> without its
    /// opening brace. <paramref name="destination"/> needs the envelope's length plus <see cref="SeqOverhead"/>.
    /// </summary>
    /// <returns>The bytes written.</returns>
    internal static int WriteNumbered(Span<byte> destination, long seq, ReadOnlySpan<byte> envelope)
    {
        "{\"seq\":"u8.CopyTo(destination);
        var at = 7;
        seq.TryFormat(destination[at..], out var digits, provider: CultureInfo.InvariantCulture);
        at += digits;
        destination[at++] = (byte)',';
        envelope[1..].CopyTo(destination[at..]);
        return at + envelope.Length - 1;
    }
}
