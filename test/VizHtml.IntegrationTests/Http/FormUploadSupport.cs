using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

/// <summary>
/// A file's bytes made up as they are read, so a test can upload (and check) tens of MiB without holding them: byte
/// <c>i</c> of file <c>seed</c> is <c>(i % 251 + seed) % 256</c> (251 is prime, so a part read from a wrong offset shows).
/// </summary>
internal sealed class PatternStream(long length, int seed) : Stream
{
    private long _position;

    public static byte At(long index, int seed) => (byte)((index % 251) + seed);

    /// <summary>Whether <paramref name="stream"/> holds exactly <paramref name="length"/> bytes of the pattern.</summary>
    public static async Task<bool> MatchesAsync(Stream stream, long length, int seed)
    {
        var buffer = new byte[81920];
        long at = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            for (var i = 0; i < read; i++, at++)
            {
                if (at >= length || buffer[i] != At(at, seed))
                {
                    return false;
                }
            }
        }

        return at == length;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, length - _position);
        for (var i = 0; i < n; i++)
        {
            buffer[i] = At(_position + i, seed);
        }

        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

internal static class FormUploads
{
    /// <summary>A multipart form with one text field and one file of the pattern, streamed (its length is known, so it is not chunked).</summary>
    public static MultipartFormDataContent PatternForm(long fileBytes, int seed, string fileName = "data.bin")
    {
        var file = new StreamContent(new PatternStream(fileBytes, seed), 64 * 1024);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent
        {
            { new StringContent(seed.ToString(CultureInfo.InvariantCulture)), "seed" },
            { file, "file", fileName },
        };
    }

    /// <summary>The files in a server's form spool folder, or none when it has no folder (yet, or any more).</summary>
    public static string[] SpooledFiles(string? folder) =>
        folder is not null && Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
}

/// <summary>
/// A form post written over TCP by hand, so a test decides when each byte goes: a client that sends its headers and
/// part of a body, then stalls, dribbles, finishes or vanishes.
/// </summary>
internal sealed class RawUpload : IDisposable
{
    public const string Boundary = "raw-boundary";

    private readonly Socket _socket;
    private readonly bool _chunked;
    private readonly MemoryStream _received = new();

    private RawUpload(Socket socket, bool chunked)
    {
        _socket = socket;
        _chunked = chunked;
    }

    /// <summary>
    /// Connects (from <paramref name="from"/>, any loopback address, when given) and sends the request head of a multipart
    /// post to <paramref name="target"/>: with a Content-Length of <paramref name="contentLength"/>, or chunked when null.
    /// </summary>
    public static async Task<RawUpload> StartAsync(int port, string target, long? contentLength, IPAddress? from = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (from is not null)
        {
            socket.Bind(new IPEndPoint(from, 0));
        }

        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var length = contentLength is { } n ? $"Content-Length: {n}\r\n" : "Transfer-Encoding: chunked\r\n";
        var head = $"POST {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: multipart/form-data; boundary={Boundary}\r\n{length}\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, timeout.Token);
        return new RawUpload(socket, chunked: contentLength is null);
    }

    /// <summary>The opening of a file part named <c>file</c>.</summary>
    public static byte[] FilePartHead(string fileName = "raw.bin") => Encoding.ASCII.GetBytes(
        $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n");

    /// <summary>The end of the last part and of the form.</summary>
    public static byte[] Closing() => Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n");

    /// <summary>The Content-Length of a form whose only part is a file of <paramref name="fileBytes"/> bytes.</summary>
    public static long LengthWithFile(long fileBytes) => FilePartHead().Length + fileBytes + Closing().Length;

    /// <summary>Sends body bytes (as one chunk, when the body is chunked).</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        if (_chunked)
        {
            await _socket.SendAsync(Encoding.ASCII.GetBytes($"{bytes.Length:x}\r\n"), SocketFlags.None, timeout.Token);
        }

        await _socket.SendAsync(bytes, SocketFlags.None, timeout.Token);
        if (_chunked)
        {
            await _socket.SendAsync("\r\n"u8.ToArray(), SocketFlags.None, timeout.Token);
        }
    }

    /// <summary>Sends <paramref name="count"/> bytes of the pattern, starting at <paramref name="from"/>.</summary>
    public async Task SendPatternAsync(long from, long count, int seed = 0)
    {
        using var pattern = new PatternStream(from + count, seed) { Position = from };
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = pattern.Read(buffer)) > 0)
        {
            await SendAsync(buffer.AsMemory(0, read));
        }
    }

    /// <summary>Reads the response's status line and headers (the body, if any, is left unread).</summary>
    public async Task<(int Status, string Head)> ReadResponseHeadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TestServer.Timeout);
        var buffer = new byte[4096];
        while (true)
        {
            var text = Encoding.ASCII.GetString(_received.ToArray());
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end > 0)
            {
                var head = text[..end];
                return (int.Parse(head.Split(' ')[1], CultureInfo.InvariantCulture), head);
            }

            var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (read == 0)
            {
                throw new IOException($"The server closed the connection before a response head: '{text}'");
            }

            _received.Write(buffer, 0, read);
        }
    }

    /// <summary>Whether the server has closed (or reset) the connection, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<bool> IsClosedByServerAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) is var read and > 0)
            {
                _received.Write(buffer, 0, read);
            }

            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>What the server sent so far, as text.</summary>
    public string Received => Encoding.ASCII.GetString(_received.ToArray());

    /// <summary>Drops the connection with a reset, as a client that crashed or lost its network.</summary>
    public void Abort()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public void Dispose()
    {
        _socket.Dispose();
        _received.Dispose();
    }
}
