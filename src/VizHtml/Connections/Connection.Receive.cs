using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using VizHtml.Protocol;

namespace VizHtml.Connections;

/// <summary>The receive half: one read loop that decodes envelopes, within the size and rate limits.</summary>
internal sealed partial class Connection
{
    private const int InitialReceiveBufferBytes = 4096;

    private readonly EnvelopeReader _reader;
    private readonly RateLimiter _rate;

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
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

                // An empty message is complete after the zero-byte read itself.
                var result = peek;
                var length = 0;
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close)
                {
                    buffer ??= ArrayPool<byte>.Shared.Rent(InitialReceiveBufferBytes);
                    if (length == buffer.Length)
                    {
                        // Grows up to one byte past the limit, so a message of exactly the limit is told from a larger one.
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

                switch (result.MessageType)
                {
                    case WebSocketMessageType.Close:
                        OnPeerClosed();
                        return;
                    case WebSocketMessageType.Binary:
                        await ViolateAsync(WebSocketCloseStatus.InvalidMessageType, "binary frames are not supported; send text envelopes").ConfigureAwait(false);
                        return;
                }

                var handler = _handler;
                if (handler.ThrottlesInsteadOfDropping)
                {
                    var wait = _rate.Reserve();
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                    }
                }
                else switch (_rate.Take())
                {
                    case RateLimiter.Verdict.Abuse:
                        await ViolateAsync(WebSocketCloseStatus.PolicyViolation, "message rate limit exceeded").ConfigureAwait(false);
                        return;
                    case RateLimiter.Verdict.DropAndWarn:
                        _logger.LogWarning("Dropping messages from {Client}: more than {Rate} a second", handler, _options.MaxMessagesPerSecond);
                        SendError(ProtocolErrors.RateLimited, $"more than {_options.MaxMessagesPerSecond} messages a second; some were dropped");
                        continue;
                    case RateLimiter.Verdict.Drop:
                        continue;
                }

                var envelope = _reader.Read(buffer is null ? ReadOnlyMemory<byte>.Empty : buffer.AsMemory(0, length));
                if (envelope.IsValid)
                {
                    if (handler.OnEnvelope(this, envelope))
                    {
                        // What the message caused for this client and left waiting (its $ack, see Wake.Deferred) leaves now,
                        // written from this thread, together with whatever a handler that ran here sent meanwhile.
                        _queue.WakeIfPending(Wake.Inline);
                    }
                }
                else
                {
                    // Malformed input costs the sender one error event; the connection and everyone else carry on.
                    _logger.LogDebug("Rejected a message: {Code} {Reason}", envelope.ErrorCode, envelope.ErrorMessage);
                    SendError(envelope.ErrorCode!, envelope.ErrorMessage!);
                }

                // The buffer goes back to the pool after every message (the envelope no longer needs it): a quiet client holds
                // none. Kept, even the first 4 KB cost every idle connection 4 KB.
                if (buffer is not null)
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

            // Its close frame is on its way; ending the request now would reset TCP and could destroy it. Wait for the peer
            // to hang up (bounded by the close timeout).
            try
            {
                await Task.Delay(_options.CloseTimeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            // IOException covers the transports' own reset exceptions (Kestrel's ConnectionResetException derives from it).
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
        await AwaitPeerCloseAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// After sending a close, reads and discards until the peer's close arrives (bounded by the close timeout): aborting at
    /// once would reset the TCP connection and could destroy the close frame before the peer has read it.
    /// </summary>
    private async Task AwaitPeerCloseAsync()
    {
        using var timeout = new CancellationTokenSource(_options.CloseTimeout, _options.TimeProvider);
        var scratch = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            while (_socket.State == WebSocketState.CloseSent)
            {
                var result = await _socket.ReceiveAsync(scratch.AsMemory(), timeout.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The peer did not answer in time or went away; the caller aborts.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private byte[] Grow(byte[] buffer, int length)
    {
        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)length * 2, _options.MaxMessageBytes + 1L));
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }
}
