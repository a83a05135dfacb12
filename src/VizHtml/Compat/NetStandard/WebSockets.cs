using System.Reflection;
using System.Runtime.InteropServices;

namespace System.Net.WebSockets;

/// <summary>The result of a <see cref="Memory{T}"/> receive (.NET Core 2.1).</summary>
internal readonly struct ValueWebSocketReceiveResult(int count, WebSocketMessageType messageType, bool endOfMessage)
{
    public int Count => count;

    public WebSocketMessageType MessageType => messageType;

    public bool EndOfMessage => endOfMessage;
}

/// <summary>
/// The <see cref="Memory{T}"/> calls of .NET Core 2.1's <see cref="WebSocket"/>, over the <see cref="ArraySegment{T}"/>
/// ones, and the runtime's own server-side WebSocket over a stream, which .NET Standard 2.0 does not declare.
/// </summary>
internal static class WebSocketCompat
{
    private static readonly Func<Stream, bool, string?, TimeSpan, WebSocket>? CreateFromStreamMethod = FindCreateFromStream();

    public static async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(this WebSocket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var segment = MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)buffer, out var array) ? array : new ArraySegment<byte>(Array.Empty<byte>());
        if (segment.Count != buffer.Length)
        {
            throw new ArgumentException("A receive buffer must be backed by an array.", nameof(buffer));
        }

        var result = await socket.ReceiveAsync(segment, cancellationToken).ConfigureAwait(false);
        return new ValueWebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
    }

    public static ValueTask SendAsync(this WebSocket socket, ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        var segment = MemoryMarshal.TryGetArray(buffer, out var array) ? array : new ArraySegment<byte>(buffer.ToArray());
        return new ValueTask(socket.SendAsync(segment, messageType, endOfMessage, cancellationToken));
    }

    /// <summary>
    /// The runtime's WebSocket for the server side of an upgraded connection: <c>WebSocket.CreateFromStream</c>, which
    /// Mono, Unity and .NET Core 2.1 and later all have, though .NET Standard 2.0 does not declare it.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">This runtime has no managed WebSocket.</exception>
    public static WebSocket CreateServer(Stream stream, TimeSpan keepAliveInterval) =>
        CreateFromStreamMethod is { } create
            ? create(stream, true, null, keepAliveInterval)
            : throw new PlatformNotSupportedException("This runtime has no WebSocket.CreateFromStream, which VizHtml's standalone server needs for its sockets.");

    private static Func<Stream, bool, string?, TimeSpan, WebSocket>? FindCreateFromStream()
    {
        var method = typeof(WebSocket).GetMethod("CreateFromStream", BindingFlags.Public | BindingFlags.Static, null, [typeof(Stream), typeof(bool), typeof(string), typeof(TimeSpan)], null);
        return method is null ? null : (Func<Stream, bool, string?, TimeSpan, WebSocket>)Delegate.CreateDelegate(typeof(Func<Stream, bool, string?, TimeSpan, WebSocket>), method);
    }
}
