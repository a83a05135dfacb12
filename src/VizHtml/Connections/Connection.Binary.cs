using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using VizHtml.Protocol;

namespace VizHtml.Connections;

/// <summary>Binary messages (protocol version 2, capability <c>binary</c>): which form a peer gets, and their writes.</summary>
internal sealed partial class Connection
{
    private volatile bool _acceptsBinary;

    /// <summary>
    /// Whether this connection's client was granted <c>binary</c> in its welcome: it may send binary messages (others get
    /// 1003 for one), and events with binary parts reach it as binary messages, not as JSON with base64 strings.
    /// Set by the handshake before the welcome is queued.
    /// </summary>
    public bool AcceptsBinary
    {
        get => _acceptsBinary;
        set => _acceptsBinary = value;
    }

    /// <summary>
    /// A binary payload in the form this peer takes: as it is for a client granted binary, else its text form. Chosen as it
    /// is queued, so the queue's byte count is what will be written; replay buffers and the broadcast log keep the binary
    /// form, and a resume picks again for the connection it resumes on.
    /// </summary>
    private OutboundMessage InPeerForm(in OutboundMessage message) =>
        !_acceptsBinary && BinaryPayload.TryGet(message.Payload, out var binary) ? message.WithPayload(binary.Text) : message;

    /// <summary>
    /// Writes one binary message alone, in fragments of at most <see cref="WriteChunkBytes"/>: the envelope (with this
    /// client's <c>"seq"</c> put in front when it is numbered, so the header length changes), then the parts straight
    /// from the payload every recipient shares, never copied.
    /// </summary>
    private async ValueTask WriteBinaryAsync(long seq, BinaryPayload binary, TaskCompletionSource<bool>? delivered, CancellationToken sendToken)
    {
        byte[]? rented = null;
        try
        {
            ReadOnlyMemory<byte> head;
            if (seq > 0)
            {
                // [H'] {"seq":N, then the shared envelope without its opening brace.
                var header = binary.Header;
                rented = ArrayPool<byte>.Shared.Rent(4 + header.Length + OutboundBatch.SeqOverhead);
                var span = rented.AsSpan();
                var at = 4 + OutboundBatch.WriteNumbered(span[4..], seq, header.Span);
                BinaryPrimitives.WriteUInt32BigEndian(span, (uint)(at - 4));
                head = rented.AsMemory(0, at);
            }
            else
            {
                head = binary.Wire.AsMemory(0, 4 + binary.HeaderLength);
            }

            var parts = binary.Parts;
            CountWritten(head.Length + parts.Length);

            // Off the queue once handed to the socket, as a batch is (see FlushAsync).
            _queue.MarkHandedOff(1, binary.Wire.Length);
            await WriteFragmentsAsync(head, last: parts.IsEmpty, sendToken).ConfigureAwait(false);
            if (!parts.IsEmpty)
            {
                await WriteFragmentsAsync(parts, last: true, sendToken).ConfigureAwait(false);
            }

            delivered?.TrySetResult(true);
        }
        catch
        {
            delivered?.TrySetResult(false);
            throw;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private async ValueTask WriteFragmentsAsync(ReadOnlyMemory<byte> bytes, bool last, CancellationToken sendToken)
    {
        do
        {
            var chunk = bytes.Length > WriteChunkBytes ? bytes[..WriteChunkBytes] : bytes;
            bytes = bytes[chunk.Length..];

            // As FlushAsync: the send timeout measures a lack of progress, one fragment at a time.
            await WriteAsync(chunk, WebSocketMessageType.Binary, endOfMessage: last && bytes.IsEmpty, sendToken).ConfigureAwait(false);
        }
        while (!bytes.IsEmpty);
    }
}
