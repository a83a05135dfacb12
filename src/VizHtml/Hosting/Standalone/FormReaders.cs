using System.Text;
using VizHtml.Http;

namespace VizHtml.Hosting.Standalone;

/// <summary>A multipart body that does not follow RFC 7578 (answered 400, where a form over a limit is 413).</summary>
internal sealed class MultipartFormatException(string message) : IOException(message);

/// <summary>Reads an <c>application/x-www-form-urlencoded</c> body as browsers send it.</summary>
internal static class UrlEncodedFormReader
{
    public static async Task<FormContent> ReadAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var bytes = await FormParts.ReadTextAsync(body, maxBytes, cancellationToken).ConfigureAwait(false);
        var fields = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var count = 0;
        foreach (var pair in Encoding.UTF8.GetString(bytes).Split('&'))
        {
            if (pair.Length == 0)
            {
                continue;
            }

            if (++count > FormParts.MaxFields)
            {
                throw new InvalidDataException($"The form has more than {FormParts.MaxFields} fields.");
            }

            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            FormParts.Add(fields, Decode(equals < 0 ? pair : pair[..equals]), [equals < 0 ? string.Empty : Decode(pair[(equals + 1)..])]);
        }

        return FormParts.ToContent(fields, []);
    }

    /// <summary>Form decoding: <c>+</c> is a space, <c>%XX</c> escapes are UTF-8 bytes, a malformed escape stays as it is.</summary>
    public static string Decode(string text)
    {
        var plus = text.Replace('+', ' ');
        return plus.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(plus) : plus;
    }
}

/// <summary>
/// Reads a <c>multipart/form-data</c> body (RFC 7578) part by part, without holding it whole: each part's body is a stream
/// up to the next boundary, which <see cref="FormParts"/> keeps in memory or spools as the Kestrel host does.
/// </summary>
internal sealed class MultipartFormReader
{
    /// <summary>A part's headers may hold at most this many bytes (ASP.NET Core's <c>HeadersLengthLimit</c>).</summary>
    public const int MaxPartHeaderBytes = 16 * 1024;

    /// <summary>A part may have at most this many headers (ASP.NET Core's <c>HeadersCountLimit</c>).</summary>
    public const int MaxPartHeaders = 16;

    private const int BufferBytes = 64 * 1024;

    private readonly Stream _body;
    private readonly byte[] _delimiter;
    private readonly byte[] _buffer = new byte[BufferBytes];
    private int _start;
    private int _end;
    private bool _eof;

    private MultipartFormReader(Stream body, string boundary)
    {
        _body = body;
        _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);

        // The body's first boundary has no line break before it: reading as if it had one makes every boundary alike.
        _buffer[0] = (byte)'\r';
        _buffer[1] = (byte)'\n';
        _end = 2;
    }

    public static async Task<FormContent> ReadAsync(Stream body, string boundary, long maxBytes, FormSpool spool, CancellationToken cancellationToken)
    {
        var reader = new MultipartFormReader(body, boundary);
        var fields = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var files = new List<VizFormFile>();
        var memoryLeft = FormSpoolFolder.MemoryThreshold;
        var parts = 0;

        // The preamble, before the first boundary, is skipped.
        await new PartStream(reader).CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        while (await reader.NextPartAsync(cancellationToken).ConfigureAwait(false) is { } headers)
        {
            if (++parts > FormParts.MaxFields)
            {
                throw new InvalidDataException($"The form has more than {FormParts.MaxFields} fields.");
            }

            var part = new PartStream(reader);
            var disposition = ContentDisposition.Parse(headers.GetValueOrDefault("Content-Disposition"));
            if (disposition is null)
            {
                await part.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (disposition.FileName is { } rawName)
            {
                var fileName = FormParts.BaseName(rawName);
                var file = await FormParts.ReadFileAsync(part, disposition.Name, fileName, headers.GetValueOrDefault("Content-Type"), memoryLeft, maxBytes, spool, cancellationToken).ConfigureAwait(false);

                // A file input left empty sends a part with no file name and no bytes: no file was chosen.
                if (fileName.Length > 0 || file.Length > 0)
                {
                    files.Add(file);
                    memoryLeft -= file.IsSpooled ? 0 : (int)file.Length;
                }
            }
            else
            {
                FormParts.Add(fields, disposition.Name, [Encoding.UTF8.GetString(await FormParts.ReadTextAsync(part, maxBytes, cancellationToken).ConfigureAwait(false))]);
            }

            // What a part's reader left unread (a file that ended the form's budget) is skipped to its boundary.
            await part.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        }

        // The epilogue after the closing boundary (usually a line break) is read too, so the connection can carry the next request.
        await body.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        return FormParts.ToContent(fields, files);
    }

    /// <summary>
    /// After a boundary: the next part's headers, or <see langword="null"/> at the closing boundary (<c>--</c>). The
    /// boundary line may end with transport padding (spaces, tabs) before its CRLF.
    /// </summary>
    private async Task<Dictionary<string, string>?> NextPartAsync(CancellationToken cancellationToken)
    {
        await FillAsync(2, cancellationToken).ConfigureAwait(false);
        if (_end - _start >= 2 && _buffer[_start] == '-' && _buffer[_start + 1] == '-')
        {
            return null;
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var firstLine = true;
        var headerBytes = 0;
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            headerBytes += line.Length + 2;
            if (headerBytes > MaxPartHeaderBytes)
            {
                throw new MultipartFormatException("A form part's headers are too large.");
            }

            if (firstLine)
            {
                // The rest of the boundary line: padding only.
                firstLine = false;
                if (line.Trim(' ', '\t').Length != 0)
                {
                    throw new MultipartFormatException("A multipart boundary line has trailing characters.");
                }

                continue;
            }

            if (line.Length == 0)
            {
                return headers;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || headers.Count >= MaxPartHeaders)
            {
                throw new MultipartFormatException("A form part's headers are malformed.");
            }

            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var end = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOf("\r\n"u8);
            if (end >= 0)
            {
                var line = Encoding.UTF8.GetString(_buffer, _start, scanned + end);
                _start += scanned + end + 2;
                return line;
            }

            scanned = Math.Max(0, _end - _start - 1);
            if (_end - _start >= MaxPartHeaderBytes)
            {
                throw new MultipartFormatException("A form part's headers are too large.");
            }

            if (!await FillAsync(_end - _start + 1, cancellationToken).ConfigureAwait(false))
            {
                throw new MultipartFormatException("The multipart form ended inside a part's headers.");
            }
        }
    }

    /// <summary>Reads until at least <paramref name="count"/> bytes are buffered or the body ends; false when it ended short.</summary>
    private async Task<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
        {
            if (_eof)
            {
                return false;
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            var read = await _body.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            _eof = read == 0;
            _end += read;
        }

        return true;
    }

    /// <summary>Copies part bytes up to the next delimiter; 0 once the delimiter is reached (and consumed).</summary>
    private async ValueTask<int> ReadPartAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            var available = _buffer.AsSpan(_start, _end - _start);
            var at = available.IndexOf(_delimiter);
            if (at == 0)
            {
                _start += _delimiter.Length;
                return -1;
            }

            // Bytes that cannot begin a delimiter are the part's, even before the rest has arrived.
            var safe = at > 0 ? at : Math.Max(0, available.Length - (_delimiter.Length - 1));
            if (safe > 0 && !destination.IsEmpty)
            {
                var count = Math.Min(safe, destination.Length);
                available[..count].CopyTo(destination.Span);
                _start += count;
                return count;
            }

            if (!await FillAsync(_delimiter.Length + (_end - _start), cancellationToken).ConfigureAwait(false) && _end - _start < _delimiter.Length)
            {
                throw new MultipartFormatException("The multipart form ended before its closing boundary.");
            }
        }
    }

    /// <summary>One part's body: a read-only stream that ends at the next boundary.</summary>
    private sealed class PartStream(MultipartFormReader reader) : Stream
    {
        private bool _done;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
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
            if (_done || buffer.IsEmpty)
            {
                return 0;
            }

            var read = await reader.ReadPartAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read < 0)
            {
                _done = true;
                return 0;
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

/// <summary>A part's <c>Content-Disposition: form-data; name="..."; filename="..."</c> (RFC 7578 4.2, with RFC 5987 <c>filename*</c>).</summary>
internal sealed record ContentDisposition(string Name, string? FileName)
{
    /// <summary>The disposition of a <c>form-data</c> part, or <see langword="null"/> for any other (such parts are skipped).</summary>
    public static ContentDisposition? Parse(string? header)
    {
        if (header is null)
        {
            return null;
        }

        var parameters = Split(header);
        if (parameters.Count == 0 || !parameters[0].Key.Equals("form-data", StringComparison.OrdinalIgnoreCase) || parameters[0].Value is not null)
        {
            return null;
        }

        string? name = null, fileName = null, fileNameStar = null;
        foreach (var (key, value) in parameters.Skip(1))
        {
            if (key.Equals("name", StringComparison.OrdinalIgnoreCase))
            {
                name = value;
            }
            else if (key.Equals("filename", StringComparison.OrdinalIgnoreCase))
            {
                fileName = value ?? string.Empty;
            }
            else if (key.Equals("filename*", StringComparison.OrdinalIgnoreCase) && value is not null)
            {
                // charset'language'percent-encoded
                var quote = value.IndexOf('\'', StringComparison.Ordinal);
                var second = quote < 0 ? -1 : value.IndexOf('\'', quote + 1);
                fileNameStar = second < 0 ? value : Uri.UnescapeDataString(value[(second + 1)..]);
            }
        }

        return new ContentDisposition(name ?? string.Empty, fileNameStar ?? fileName);
    }

    /// <summary>Splits <c>type; key=value; key="quoted \" value"</c> into pairs (the type first, with a null value).</summary>
    private static List<KeyValuePair<string, string?>> Split(string header)
    {
        var result = new List<KeyValuePair<string, string?>>();
        var i = 0;
        while (i < header.Length)
        {
            var keyStart = i;
            while (i < header.Length && header[i] is not ('=' or ';'))
            {
                i++;
            }

            var key = header[keyStart..i].Trim();
            string? value = null;
            if (i < header.Length && header[i] == '=')
            {
                i++;
                while (i < header.Length && header[i] is ' ' or '\t')
                {
                    i++;
                }

                if (i < header.Length && header[i] == '"')
                {
                    var text = new StringBuilder();
                    i++;
                    while (i < header.Length && header[i] != '"')
                    {
                        if (header[i] == '\\' && i + 1 < header.Length)
                        {
                            i++;
                        }

                        text.Append(header[i++]);
                    }

                    i++;
                    value = text.ToString();
                    while (i < header.Length && header[i] != ';')
                    {
                        i++;
                    }
                }
                else
                {
                    var valueStart = i;
                    while (i < header.Length && header[i] != ';')
                    {
                        i++;
                    }

                    value = header[valueStart..i].Trim();
                }
            }

            if (key.Length > 0)
            {
                result.Add(new(key, value));
            }

            i++;
        }

        return result;
    }
}
