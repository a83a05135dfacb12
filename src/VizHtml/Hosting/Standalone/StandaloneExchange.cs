using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using VizHtml.Http;

namespace VizHtml.Hosting.Standalone;

/// <summary>The standalone host's side of the HTTP seam: a request parsed by <see cref="RequestHead"/>, answered on its <see cref="HttpConnection"/>.</summary>
#pragma warning disable CA1001 // The body stream holds nothing to release: it reads through the connection, which is disposed by its owner.
internal sealed class StandaloneExchange : HttpExchange
#pragma warning restore CA1001
{
    private const int FileChunkBytes = 64 * 1024;

    private readonly HttpConnection _connection;
    private readonly RequestHead _head;
    private readonly List<(string Name, string Value)> _responseHeaders = [];
    private readonly RequestBody _body;
    private IReadOnlyDictionary<string, IReadOnlyList<string>>? _query;
    private Dictionary<string, string>? _cookies;
    private bool _continueSent;

    public StandaloneExchange(HttpConnection connection, RequestHead head)
    {
        _connection = connection;
        _head = head;
        _body = new RequestBody(this, head.ContentLength);
    }

    /// <summary>Whether the response (or the upgrade) has been written.</summary>
    public bool HasResponded { get; private set; }

    /// <summary>Whether the connection became a WebSocket.</summary>
    public bool Upgraded { get; private set; }

    /// <summary>Whether the connection closes after this response (the client asked, the body was not read whole, or the host stops).</summary>
    public bool CloseAfterResponse { get; private set; }

    /// <summary>How many bytes of the request's body the handler left unread.</summary>
    public long UnreadBodyBytes => _body.Remaining;

    public override string Method => _head.Method;

    public override string Path => _head.Path;

    public override string PathBase => string.Empty;

    public override string QueryString => _head.QueryString;

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Query => _query ??= ParseQuery(_head.QueryString);

    public override IReadOnlyDictionary<string, string> Headers => _head.Headers;

    public override string Scheme => _connection.IsTls ? "https" : "http";

    public override string Host => _head.Header("Host") ?? string.Empty;

    public override IPAddress? RemoteAddress => _connection.RemoteAddress;

    public override ClaimsPrincipal? User => null;

    public override CancellationToken Aborted => _connection.Aborted;

    /// <summary>A version 13 upgrade request (RFC 6455 4.2.1) with a valid key, as Kestrel's <c>IsWebSocketRequest</c> judges it.</summary>
    public override bool IsWebSocketRequest =>
        _head.IsHttp11
        && _head.Method == "GET"
        && !_head.HasContentLength
        && _head.HeaderHasToken("Connection", "Upgrade")
        && _head.HeaderHasToken("Upgrade", "websocket")
        && _head.Header("Sec-WebSocket-Version") == "13"
        && IsValidKey(_head.Header("Sec-WebSocket-Key"));

    public override bool HasFormContentType => FormContentType() is not null;

    public override long? ContentLength => _head.HasContentLength ? _head.ContentLength : null;

    public override string? Header(string name) => _head.Header(name);

    public override string? Cookie(string name)
    {
        if (_cookies is null)
        {
            _cookies = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in (_head.Header("Cookie") ?? string.Empty).Split(';'))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0)
                {
                    var value = pair[(equals + 1)..].Trim().Trim('"');
                    _cookies.TryAdd(pair[..equals].Trim(), Uri.UnescapeDataString(value));
                }
            }
        }

        return _cookies.TryGetValue(name, out var found) ? found : null;
    }

    public override async Task<WebSocket> AcceptWebSocketAsync(int sendBufferBytes)
    {
#pragma warning disable CA5350 // RFC 6455 4.2.2 defines the accept value with SHA-1; it is not used for security.
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(_head.Header("Sec-WebSocket-Key")!.Trim() + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        HasResponded = Upgraded = true;
        await _connection.WriteAsync(ResponseHead.Format(101, [("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Accept", accept)], _connection.Settings.TimeProvider)).ConfigureAwait(false);
        return _connection.BecomeWebSocket(sendBufferBytes);
    }

    public override async Task<FormContent> ReadFormAsync(long maxBytes, FormSpool spool, CancellationToken cancellationToken)
    {
        var mediaType = FormContentType() ?? throw new FormRejectedException(415, "The body is not a form.");
        if (_head.ContentLength > maxBytes)
        {
            throw new FormRejectedException(413, $"The form is larger than the limit of {maxBytes} bytes.");
        }

        try
        {
            return mediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
                ? await MultipartFormReader.ReadAsync(_body, Boundary(), maxBytes, spool, cancellationToken).ConfigureAwait(false)
                : await UrlEncodedFormReader.ReadAsync(_body, maxBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw new FormRejectedException(413, ex.Message, ex);
        }
        catch (MultipartFormatException ex)
        {
            throw new FormRejectedException(400, ex.Message, ex);
        }
        catch (IOException ex) when (!Aborted.IsCancellationRequested)
        {
            throw new FormRejectedException(400, "The form did not arrive whole.", ex);
        }
    }

    public override void SetHeader(string name, string value)
    {
        _responseHeaders.RemoveAll(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        _responseHeaders.Add((name, value));
    }

    public override void SetCookie(string name, string value) =>
        _responseHeaders.Add(("Set-Cookie", $"{name}={Uri.EscapeDataString(value)}; path=/;{(_connection.IsTls ? " secure;" : string.Empty)} samesite=strict; httponly"));

    public override async Task RespondAsync(int status, string? contentType, ReadOnlyMemory<byte> body)
    {
        if (contentType is not null)
        {
            SetHeader("Content-Type", contentType);
        }
        else
        {
            body = ReadOnlyMemory<byte>.Empty;
        }

        await WriteHeadAsync(status, ResponseHead.HasNoBody(status) ? null : body.Length).ConfigureAwait(false);
        if (!IsHead && !body.IsEmpty && !ResponseHead.HasNoBody(status))
        {
            await _connection.WriteAsync(body).ConfigureAwait(false);
        }
    }

    public override async Task SendFileAsync(FileInfo file, string? contentType, DateTimeOffset lastModified, string etag)
    {
        // The length of what will be read, not FileInfo.Length: for a symbolic link that is the link's own size.
        using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1, useAsync: true);
        var length = stream.Length;
        SetHeader("ETag", etag);
        SetHeader("Last-Modified", lastModified.ToString("r", CultureInfo.InvariantCulture));
        SetHeader("Accept-Ranges", "bytes");
        if (NotModified(lastModified, etag))
        {
            await WriteHeadAsync(304, contentLength: null).ConfigureAwait(false);
            return;
        }

        SetHeader("Content-Type", contentType ?? ContentTypes.For(file.Name));
        var (from, count, status) = (0L, length, 200);
        if (IsGetOrHead && _head.Header("Range") is { } range && RangeApplies(lastModified, etag))
        {
            if (ByteRange.TryParse(range, length, out var start, out var end, out var satisfiable))
            {
                (from, count, status) = (start, end - start + 1, 206);
                SetHeader("Content-Range", $"bytes {start}-{end}/{length}");
            }
            else if (!satisfiable)
            {
                SetHeader("Content-Range", $"bytes */{length}");
                await WriteHeadAsync(416, 0).ConfigureAwait(false);
                return;
            }
        }

        await WriteHeadAsync(status, count).ConfigureAwait(false);
        if (IsHead || count == 0)
        {
            return;
        }

        stream.Position = from;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(FileChunkBytes);
        try
        {
            while (count > 0)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), Aborted).ConfigureAwait(false);
                if (read == 0)
                {
                    // The file shrank under the response: the length is promised, so the connection must end.
                    _connection.Abort();
                    return;
                }

                await _connection.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                count -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads body bytes for <see cref="RequestBody"/>: sends <c>100 Continue</c> first when the client waits for it.</summary>
    internal async ValueTask<int> ReadBodyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (!_continueSent && !HasResponded && _head.IsHttp11 && (_head.Header("Expect")?.Equals("100-continue", StringComparison.OrdinalIgnoreCase) ?? false))
        {
            _continueSent = true;
            await _connection.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray()).ConfigureAwait(false);
        }

        return await _connection.ReadBodyAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The body has been read whole.</summary>
    internal void BodyComplete() => _connection.BodyComplete(this);

    private async Task WriteHeadAsync(int status, long? contentLength)
    {
        if (HasResponded)
        {
            throw new InvalidOperationException("The response has already been written.");
        }

        HasResponded = true;

        // The rest of an unread body would be taken for the next request: the connection ends with this response.
        CloseAfterResponse = !_head.KeepAlive || _body.Remaining > 0 || _connection.Stopping
            || _responseHeaders.Exists(h => h.Name.Equals("Connection", StringComparison.OrdinalIgnoreCase) && h.Value.Equals("close", StringComparison.OrdinalIgnoreCase));
        SetHeader("Connection", CloseAfterResponse ? "close" : "keep-alive");
        if (contentLength is { } length)
        {
            SetHeader("Content-Length", length.ToString(CultureInfo.InvariantCulture));
        }

        await _connection.WriteAsync(ResponseHead.Format(status, _responseHeaders, _connection.Settings.TimeProvider)).ConfigureAwait(false);
    }

    private bool NotModified(DateTimeOffset lastModified, string etag)
    {
        if (!IsGetOrHead)
        {
            return false;
        }

        if (_head.Header("If-None-Match") is { } ifNoneMatch)
        {
            return MatchesAny(ifNoneMatch, etag);
        }

        return _head.Header("If-Modified-Since") is { } since
            && DateTimeOffset.TryParseExact(since, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            && TruncateToSeconds(lastModified) <= date;
    }

    // If-Range: the range applies only to the representation the client has (a strong ETag, or the exact date).
    private bool RangeApplies(DateTimeOffset lastModified, string etag) => _head.Header("If-Range") is not { } ifRange
        || ifRange == etag
        || (DateTimeOffset.TryParseExact(ifRange, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) && TruncateToSeconds(lastModified) == date);

    private static bool MatchesAny(string header, string etag)
    {
        foreach (var part in header.Split(','))
        {
            var tag = part.Trim();
            if (tag == "*" || tag == etag || (tag.StartsWith("W/", StringComparison.Ordinal) && tag[2..] == etag))
            {
                return true;
            }
        }

        return false;
    }

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    /// <summary>The form's media type (<c>application/x-www-form-urlencoded</c> or <c>multipart/form-data</c>), or null.</summary>
    private string? FormContentType()
    {
        var type = _head.Header("Content-Type");
        if (type is null)
        {
            return null;
        }

        var semicolon = type.IndexOf(';', StringComparison.Ordinal);
        var media = (semicolon < 0 ? type : type[..semicolon]).Trim();
        return media.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) || media.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            ? media
            : null;
    }

    /// <summary>The multipart boundary parameter, unquoted (RFC 2046 5.1.1: 1 to 70 characters).</summary>
    private string Boundary()
    {
        foreach (var parameter in (_head.Header("Content-Type") ?? string.Empty).Split(';').Skip(1))
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && parameter[..equals].Trim().Equals("boundary", StringComparison.OrdinalIgnoreCase))
            {
                var boundary = parameter[(equals + 1)..].Trim().Trim('"');
                if (boundary.Length is > 0 and <= 70)
                {
                    return boundary;
                }
            }
        }

        throw new FormRejectedException(400, "The multipart form has no boundary.");
    }

    private static bool IsValidKey(string? key)
    {
        if (key is null)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key.Trim(), decoded, out var written) && written == 16;
    }

    /// <summary>A query string parsed as ASP.NET Core's <c>QueryHelpers</c> does: <c>+</c> is a space, escapes are UTF-8, names may repeat.</summary>
    internal static IReadOnlyDictionary<string, IReadOnlyList<string>> ParseQuery(string queryString)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var query = queryString.StartsWith('?') ? queryString[1..] : queryString;
        foreach (var pair in query.Split('&'))
        {
            if (pair.Length == 0)
            {
                continue;
            }

            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = UrlEncodedFormReader.Decode(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? string.Empty : UrlEncodedFormReader.Decode(pair[(equals + 1)..]);
            FormParts.Add(values, name, [value]);
        }

        return values.ToDictionary(v => v.Key, v => (IReadOnlyList<string>)v.Value.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The request's body: at most Content-Length bytes, read through the connection.</summary>
    private sealed class RequestBody(StandaloneExchange exchange, long length) : Stream
    {
        private long _read;

        public long Remaining => length - _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadCoreAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadCoreAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

#if NET
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ReadCoreAsync(buffer, cancellationToken);
#endif

        private async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Remaining == 0 || buffer.IsEmpty)
            {
                return 0;
            }

            var read = await exchange.ReadBodyAsync(buffer[..(int)Math.Min(buffer.Length, Remaining)], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"The client closed the connection with {Remaining} bytes of its body unsent.");
            }

            _read += read;
            if (Remaining == 0)
            {
                exchange.BodyComplete();
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>A single byte range (<c>bytes=a-b</c>, <c>bytes=a-</c>, <c>bytes=-n</c>); several ranges are answered with the whole file, as Kestrel does.</summary>
internal static class ByteRange
{
    /// <summary>
    /// Parses a Range header for a file of <paramref name="length"/> bytes into the first and last byte to send
    /// (<paramref name="start"/>, <paramref name="end"/>). <paramref name="satisfiable"/> is false when the
    /// <paramref name="header"/> is a valid single range that lies wholly past the end (416).
    /// </summary>
    public static bool TryParse(string header, long length, out long start, out long end, out bool satisfiable)
    {
        start = end = 0;
        satisfiable = true;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(',', StringComparison.Ordinal))
        {
            return false;
        }

        var spec = header[6..].Trim();
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return false;
        }

        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            // A suffix: the last n bytes.
            // A suffix longer than the file (even past long.MaxValue) is the whole file; only "-0" is unsatisfiable.
            if (last.Length == 0 || !last.All(char.IsAsciiDigit))
            {
                return false;
            }

            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix))
            {
                suffix = long.MaxValue;
            }

            if (suffix == 0)
            {
                satisfiable = false;
                return false;
            }

            start = Math.Max(0, length - suffix);
            end = length - 1;
            satisfiable = length > 0;
            return satisfiable;
        }

        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out start))
        {
            return false;
        }

        end = length - 1;
        if (last.Length > 0 && (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start))
        {
            return false;
        }

        if (start >= length)
        {
            satisfiable = false;
            return false;
        }

        end = Math.Min(end, length - 1);
        return true;
    }
}
