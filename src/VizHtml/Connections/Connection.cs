using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VizHtml.Protocol;

namespace VizHtml.Connections;

/// <summary>
/// One browser's WebSocket: a read loop that decodes envelopes and a single write loop that drains the
/// send queue. When either loop ends, the other gets <see cref="ConnectionOptions.CloseTimeout"/> to finish,
/// then the socket is aborted.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source lives exactly as long as RunAsync, which disposes it.")]
internal sealed class Connection
{
    private const int InitialReceiveBufferBytes = 4096;

    private readonly WebSocket _socket;
    private readonly ConnectionOptions _options;
    private readonly EnvelopeReader _reader;
    private readonly ILogger _logger;
    private readonly Channel<OutboundFrame> _queue;
    private readonly CancellationTokenSource _abort;
    private int _closeReason = -1;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeDescription;

    public Connection(WebSocket socket, ConnectionOptions options, EnvelopeReader reader, ILogger logger)
    {
        _socket = socket;
        _options = options;
        _reader = reader;
        _logger = logger;
        _abort = new CancellationTokenSource(Timeout.InfiniteTimeSpan, options.TimeProvider);

        // Unbounded for now; the write loop is the only reader, so a broadcast never waits on this client.
        _queue = Channel.CreateUnbounded<OutboundFrame>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    }

    /// <summary>The public client object this connection belongs to; set once, right after construction.</summary>
    public VizClient? Owner { get; set; }

    /// <summary>Why the connection ended; meaningful once <see cref="RunAsync"/> has completed.</summary>
    public VizDisconnectReason CloseReason => _closeReason < 0 ? VizDisconnectReason.ConnectionLost : (VizDisconnectReason)_closeReason;

    /// <summary>The close code sent or received, if a close handshake happened.</summary>
    public WebSocketCloseStatus? CloseStatus => _closeStatus;

    public string? CloseDescription => _closeDescription;

    /// <summary>Queues a frame. Returns <see langword="false"/> once the connection is closing.</summary>
    public bool TryEnqueue(in OutboundFrame frame) => _queue.Writer.TryWrite(frame);

    /// <summary>Closes after everything already queued has been written.</summary>
    public void RequestClose(VizDisconnectReason reason, WebSocketCloseStatus status, string description)
    {
        if (RecordReason(reason, status, description) && _queue.Writer.TryWrite(OutboundFrame.Close(status, description)))
        {
            _queue.Writer.TryComplete();
        }
    }

    /// <summary>Runs both loops until the connection ends; never throws for network failures.</summary>
    public async Task RunAsync(Action<Connection, string, JsonNode?> onEnvelope, CancellationToken requestAborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, _abort.Token);
        var writing = WriteLoopAsync(linked.Token);
        try
        {
            await ReadLoopAsync(onEnvelope, linked.Token).ConfigureAwait(false);
        }
        finally
        {
            _queue.Writer.TryComplete();
            await FinishAsync(writing).ConfigureAwait(false);
            FailPendingDeliveries();
            _abort.Dispose();
        }
    }

    private async Task ReadLoopAsync(Action<Connection, string, JsonNode?> onEnvelope, CancellationToken cancellationToken)
    {
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                // Zero-byte read first so idle sockets hold no buffer.
                var peek = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    OnPeerClosed();
                    return;
                }

                buffer ??= ArrayPool<byte>.Shared.Rent(InitialReceiveBufferBytes);
                var length = 0;
                ValueWebSocketReceiveResult result = default;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (length >= _options.MaxMessageBytes)
                        {
                            await ViolateAsync(WebSocketCloseStatus.MessageTooBig, $"message larger than {_options.MaxMessageBytes} bytes").ConfigureAwait(false);
                            return;
                        }

                        buffer = Grow(buffer, length);
                    }

                    var window = buffer.AsMemory(length, Math.Min(buffer.Length, _options.MaxMessageBytes + 1) - length);
                    result = await _socket.ReceiveAsync(window, cancellationToken).ConfigureAwait(false);
                    length += result.Count;
                    if (length > _options.MaxMessageBytes)
                    {
                        await ViolateAsync(WebSocketCloseStatus.MessageTooBig, $"message larger than {_options.MaxMessageBytes} bytes").ConfigureAwait(false);
                        return;
                    }
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                switch (result.MessageType)
                {
                    case WebSocketMessageType.Close:
                        OnPeerClosed();
                        return;
                    case WebSocketMessageType.Binary:
                        await ViolateAsync(WebSocketCloseStatus.InvalidMessageType, "binary frames are not supported; send text envelopes").ConfigureAwait(false);
                        return;
                }

                var envelope = _reader.Read(buffer.AsMemory(0, length));
                if (envelope.IsValid)
                {
                    onEnvelope(this, envelope.EventName!, envelope.Data);
                }
                else
                {
                    // Malformed input costs the sender one error event; the connection and everyone else carry on.
                    _logger.LogDebug("Rejected a message: {Code} {Reason}", envelope.ErrorCode, envelope.ErrorMessage);
                    TryEnqueue(OutboundFrame.Message(EnvelopeSerializer.SerializeError(envelope.ErrorCode!, envelope.ErrorMessage!)));
                }

                // Large buffers go back to the pool between messages rather than pinning memory on a quiet client.
                if (buffer.Length > InitialReceiveBufferBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
            RecordReason(VizDisconnectReason.ConnectionLost, null, null);
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.Faulted && ex.InnerException is null)
        {
            // The framework refused a frame itself (invalid UTF-8 gets 1007, a malformed frame 1002), sent its close
            // and aborted; it does not say which code it sent.
            _logger.LogInformation("Closed a connection whose frames the WebSocket layer rejected (invalid UTF-8 or a malformed frame)");
            RecordReason(VizDisconnectReason.ProtocolViolation, null, "invalid frame (invalid UTF-8 or malformed)");
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            _logger.LogDebug(ex, "Connection lost while reading");
            RecordReason(VizDisconnectReason.ConnectionLost, null, null);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    if (frame.CloseStatus is { } status)
                    {
                        await CloseOutputAsync(status, frame.CloseDescription).ConfigureAwait(false);

                        // The read loop now waits for the peer's close; a peer that never answers is cut off.
                        _abort.CancelAfter(_options.CloseTimeout);
                        return;
                    }

                    await _socket.SendAsync(frame.Payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                    frame.Delivered?.TrySetResult(true);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            _logger.LogDebug(ex, "Connection lost while writing");
            RecordReason(VizDisconnectReason.ConnectionLost, null, null);
            _abort.Cancel();
        }
    }

    private void OnPeerClosed()
    {
        RecordReason(VizDisconnectReason.ClientClosed, _socket.CloseStatus, _socket.CloseStatusDescription);
    }

    private async Task ViolateAsync(WebSocketCloseStatus status, string description)
    {
        _logger.LogInformation("Closing a connection that broke the protocol: {Status} {Description}", (int)status, description);
        RecordReason(VizDisconnectReason.ProtocolViolation, status, description);

        // Whatever was queued is dropped: the peer broke the protocol, so the close goes out now.
        await CloseOutputAsync(status, description).ConfigureAwait(false);
    }

    private async Task FinishAsync(Task writing)
    {
        // The read loop is over; give the write loop (and the close handshake) a bounded time, then abort.
        using var timeout = new CancellationTokenSource(_options.CloseTimeout, _options.TimeProvider);
        try
        {
            await writing.WaitAsync(timeout.Token).ConfigureAwait(false);
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(_closeStatus ?? WebSocketCloseStatus.NormalClosure, _closeDescription ?? string.Empty, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The peer is gone or too slow to take the close frame; aborting below is the answer.
        }
        finally
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            _socket.Abort();
        }
    }

    private async Task CloseOutputAsync(WebSocketCloseStatus status, string? description)
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        using var timeout = new CancellationTokenSource(_options.CloseTimeout, _options.TimeProvider);
        try
        {
            await _socket.CloseOutputAsync(status, description, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            _socket.Abort();
        }
    }

    private void FailPendingDeliveries()
    {
        while (_queue.Reader.TryRead(out var frame))
        {
            frame.Delivered?.TrySetResult(false);
        }
    }

    private bool RecordReason(VizDisconnectReason reason, WebSocketCloseStatus? status, string? description)
    {
        if (Interlocked.CompareExchange(ref _closeReason, (int)reason, -1) != -1)
        {
            return false;
        }

        _closeStatus = status;
        _closeDescription = description;
        return true;
    }

    private byte[] Grow(byte[] buffer, int length)
    {
        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)length * 2, _options.MaxMessageBytes + 1L));
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }
}
