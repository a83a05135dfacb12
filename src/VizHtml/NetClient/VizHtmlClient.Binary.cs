using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using VizHtml.Protocol;

namespace VizHtml;

/// <summary>Binary messages (protocol version 2, capability <c>binary</c>, which this client always asks for).</summary>
public sealed partial class VizHtmlClient
{
    private EnvelopeReader? _binaryReader;

    /// <summary>
    /// An event whose data holds bytes (<c>byte[]</c>, <see cref="ReadOnlyMemory{T}"/> or <see cref="Memory{T}"/> of bytes)
    /// becomes a binary message: its wire bytes, with <paramref name="seq"/> in its envelope; other data a text envelope.
    /// </summary>
    private byte[] SerializeWithParts(string eventName, object? data, long seq)
    {
        var payload = _serializer.SerializeWithParts(eventName, data, seq);
        if (BinaryPayload.TryGet(payload, out var binary))
        {
            return binary.Wire;
        }

        // A text envelope is an array of its own.
        return System.Runtime.InteropServices.MemoryMarshal.TryGetArray(payload, out var text) && text.Offset == 0 && text.Count == text.Array!.Length
            ? text.Array
            : payload.ToArray();
    }

    /// <summary>
    /// Which kind of WebSocket message a queued payload goes as. A text envelope starts with <c>{</c>; a binary message
    /// with its envelope's length, big-endian, whose first byte is <c>{</c> (0x7B) only for an envelope of 1.9 GiB or more,
    /// which this client never writes.
    /// </summary>
    private static WebSocketMessageType MessageTypeOf(byte[] payload) =>
        payload.Length > 0 && payload[0] == (byte)'{' ? WebSocketMessageType.Text : WebSocketMessageType.Binary;

    /// <summary>A binary message from the server: numbered and delivered as a text envelope is, with its parts.</summary>
    private ValueTask OnBinaryAsync(ReadOnlyMemory<byte> message)
    {
        // The depth System.Text.Json allows by default, as the client's text path parses with.
        var envelope = BinaryEnvelope.Read(_binaryReader ??= new EnvelopeReader(maxDepth: 64), message);
        if (!envelope.IsValid)
        {
            _logger.LogWarning("Ignoring a malformed binary message from the server: {Problem}", envelope.ErrorMessage);
            return default;
        }

        if (envelope.Seq > 0)
        {
            // A replayed event this client already has: dropped, so each arrives once.
            if (envelope.Seq <= _lastReceived)
            {
                return default;
            }

            _lastReceived = envelope.Seq;
        }

        var name = envelope.EventName!;
        _messages.TryDeliver(name, new VizClientMessageEvent(name, envelope.Payload, envelope.Parts), out var delivered);
        return delivered;
    }
}

/// <summary>The binary parts of an event a <see cref="VizHtmlClient"/> received.</summary>
public sealed partial class VizClientMessageEvent
{
    internal VizClientMessageEvent(string eventName, VizData data, IReadOnlyList<ReadOnlyMemory<byte>>? parts)
        : this(eventName, data)
    {
        Parts = parts ?? [];
    }

    /// <summary>
    /// The binary parts of a binary message, in order (empty for a text message): what the server sent as <c>byte[]</c> or
    /// <see cref="ReadOnlyMemory{T}"/>. In <see cref="Data"/>, part i stands as <c>{"$bin": i}</c>; <see cref="GetBytes"/> resolves it.
    /// </summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Parts { get; } = [];

    /// <summary>
    /// The bytes <paramref name="value"/> (a part of <see cref="Data"/>, or <see cref="Data"/> itself) stands for: a binary
    /// part's placeholder gives the part without a copy; a string is read as base64.
    /// </summary>
    /// <exception cref="FormatException">When <paramref name="value"/> is neither a placeholder of one of <see cref="Parts"/> nor base64 text.</exception>
    public ReadOnlyMemory<byte> GetBytes(VizData value) => BinaryJson.GetBytes(value, Parts, Event);
}
