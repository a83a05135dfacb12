using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using VizHtml.Protocol;

namespace VizHtml.Connections;

/// <summary>The receive half: one read loop that decodes envelopes, within the size, assembly and rate limits.</summary>
internal sealed partial class Connection
{
    /// <summary>1013 "try again later" from the IANA registry of close codes (RFC 6455 11.7), which the enum lacks.</summary>
    public const WebSocketCloseStatus TryAgainLaterStatus = (WebSocketCloseStatus)1013;

    private const string AddressShareFullDescription = "server busy: the memory for messages from your address is in use; try again later";
    private const string BudgetFullDescription = "server busy: the memory for incoming messages is in use; try again later";

    /// <summary>How long the close frame the WebSocket layer sent after failing a frame gets to reach the peer before TCP is closed.</summary>
    private static readonly TimeSpan FailedFrameGrace = TimeSpan.FromSeconds(1);

    private readonly EnvelopeReader _reader;
    private readonly RateLimiter _rate;
    private readonly MessageAssemblyLimits _assembly;

    // The message clock: the read loop sets and clears _assemblyStarted, the timer reads it and sets _assemblyTimedOut.
    private long _assemblyStarted;
    private ITimer? _assemblyTimer;
    private volatile bool _assemblyTimedOut;

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        var message = new MessageBuffer(_assembly, RemoteAddress);
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
                var frames = 0;
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close)
                {
                    // Up to one byte past the limit, so a message of exactly the limit is told from a larger one.
                    if (!message.TryGetWindow(_options.MaxMessageBytes + 1, out var window, out var refusal))
                    {
                        message.Clear();
                        await RefuseAsync(refusal).ConfigureAwait(false);
                        return;
                    }

                    result = await _socket.ReceiveAsync(window, cancellationToken).ConfigureAwait(false);
                    message.Advance(result.Count);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    if (_assemblyTimedOut)
                    {
                        // The timer has queued the close; whatever else arrives is read and dropped.
                        message.Clear();
                        await AwaitPeerCloseAsync().ConfigureAwait(false);
                        return;
                    }

                    if (message.Length > _options.MaxMessageBytes)
                    {
                        message.Clear();
                        await ViolateAsync(WebSocketCloseStatus.MessageTooBig, $"message larger than {_options.MaxMessageBytes} bytes").ConfigureAwait(false);
                        return;
                    }

                    // The runtime ends a read at the end of a frame or of the window, so a read that left room ended a frame
                    // (an empty frame reads as nothing); one that filled the window may have stopped inside a frame and is not counted.
                    if (result.Count < window.Length && ++frames > _assembly.MaxFrames)
                    {
                        message.Clear();
                        await ViolateAsync(WebSocketCloseStatus.MessageTooBig, $"message in more than {_assembly.MaxFrames} frames").ConfigureAwait(false);
                        return;
                    }

                    // A message that one read did not complete is on the clock from here; one that did never touches it.
                    if (!result.EndOfMessage && Volatile.Read(ref _assemblyStarted) == 0)
                    {
                        StartAssemblyClock();
                    }
                }

                if (Volatile.Read(ref _assemblyStarted) != 0)
                {
                    Volatile.Write(ref _assemblyStarted, 0);
                }

                switch (result.MessageType)
                {
                    case WebSocketMessageType.Close:
                        OnPeerClosed();
                        return;
                    case WebSocketMessageType.Binary when !AcceptsBinary:
                        message.Clear();
                        await ViolateAsync(WebSocketCloseStatus.InvalidMessageType, "binary frames are not supported; send text envelopes").ConfigureAwait(false);
                        return;
                }

                _options.Metrics?.BytesReceived(message.Length);
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
                        message.Clear();
                        await ViolateAsync(WebSocketCloseStatus.PolicyViolation, "message rate limit exceeded").ConfigureAwait(false);
                        return;
                    case RateLimiter.Verdict.DropAndWarn:
                        message.Clear();
                        _logger.LogWarning("Dropping messages from {Client}: more than {Rate} a second", handler, _options.MaxMessagesPerSecond);
                        SendError(ProtocolErrors.RateLimited, $"more than {_options.MaxMessagesPerSecond} messages a second; some were dropped");
                        continue;
                    case RateLimiter.Verdict.Drop:
                        message.Clear();
                        continue;
                }

                var envelope = result.MessageType == WebSocketMessageType.Binary
                    ? BinaryEnvelope.Read(_reader, message.GetMessage())
                    : _reader.Read(message.GetMessage());
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

                // The buffers go back after every message (the envelope no longer needs them): a quiet client holds none. Kept,
                // even the first 4 KB cost every idle connection 4 KB.
                message.Clear();
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

            // Its close frame is on its way; ending the request at once could reset TCP before the peer has read it. The
            // aborted socket cannot hear the peer's answer, so the frame gets a short grace to arrive (unless the peer hangs up
            // first), then the server closes TCP itself, as RFC 6455 7.1.1 asks, instead of leaving it to the client.
            try
            {
                var grace = _options.CloseTimeout < FailedFrameGrace ? _options.CloseTimeout : FailedFrameGrace;
                await Task.Delay(grace, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
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
            message.Close();
            _assemblyTimer?.Dispose();
        }
    }

    private void OnPeerClosed()
    {
        RecordReason(VizDisconnectReason.ClientClosed, _socket.CloseStatus, _socket.CloseStatusDescription);
    }

    private Task ViolateAsync(WebSocketCloseStatus status, string description)
    {
        _logger.LogInformation("Closing a connection that broke the protocol: {Status} {Description}", (int)status, description);
        return CloseNowAsync(VizDisconnectReason.ProtocolViolation, status, description);
    }

    private Task RefuseAsync(Refusal refusal)
    {
        var (scope, limit, description) = refusal == Refusal.AddressShareFull
            ? ("its address", _assembly.MaxBytesPerAddress, AddressShareFullDescription)
            : ("all clients", _assembly.MaxBytes, BudgetFullDescription);
        _logger.LogWarning("Closing {Client} with 1013: no room to receive its message (the {Limit} bytes for messages arriving from {Scope} are in use)", _handler, limit, scope);
        return CloseNowAsync(VizDisconnectReason.ServerBusy, TryAgainLaterStatus, description);
    }

    /// <summary>Records why, then sends the close at once, ahead of whatever was queued, and reads until the peer's close.</summary>
    private async Task CloseNowAsync(VizDisconnectReason reason, WebSocketCloseStatus status, string description)
    {
        RecordReason(reason, status, description);
        await CloseOutputAsync(status, description).ConfigureAwait(false);
        await AwaitPeerCloseAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// After sending a close, reads and discards until the peer's close arrives (bounded by the close timeout): aborting at
    /// once would reset the TCP connection and could destroy the close frame before the peer has read it.
    /// </summary>
    private async Task AwaitPeerCloseAsync()
    {
        using var timeout = _options.TimeProvider.CreateCancellationTokenSource(_options.CloseTimeout);
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

    /// <summary>
    /// Puts a message that one read did not complete on the clock: past <see cref="MessageAssemblyLimits.Timeout"/> its
    /// connection is closed with 1008. One timer per connection, made at its first such message and moved at each.
    /// </summary>
    private void StartAssemblyClock()
    {
        var timeout = _assembly.Timeout;
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        Volatile.Write(ref _assemblyStarted, _options.TimeProvider.GetTimestamp());
        if (_assemblyTimer is null)
        {
            _assemblyTimer = _options.TimeProvider.CreateTimer(static state => ((Connection)state!).OnAssemblyClock(), this, timeout, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _assemblyTimer.Change(timeout, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnAssemblyClock()
    {
        var started = Volatile.Read(ref _assemblyStarted);
        if (started == 0)
        {
            return;
        }

        // Due for an earlier message and a later one is on the clock now: wait for the later one's time.
        var left = _assembly.Timeout - _options.TimeProvider.GetElapsedTime(started);
        if (left > TimeSpan.Zero)
        {
            try
            {
                _assemblyTimer?.Change(left, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The connection ended meanwhile.
            }

            return;
        }

        _assemblyTimedOut = true;
        var description = $"message not completed within {_assembly.Timeout.TotalSeconds:0.###} s";
        _logger.LogInformation("Closing {Client} with 1008: {Description}", _handler, description);
        Close(CloseKind.AfterQueued, VizDisconnectReason.ProtocolViolation, WebSocketCloseStatus.PolicyViolation, description);
    }
}
