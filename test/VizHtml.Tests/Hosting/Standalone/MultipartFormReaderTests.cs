using System.Text;
using VizHtml.Hosting.Standalone;
using VizHtml.Http;

namespace VizHtml.Tests.Hosting.Standalone;

/// <summary>The standalone host's multipart reader (RFC 7578, RFC 2046 5.1.1) on the shapes browsers and hostile clients send.</summary>
public sealed class MultipartFormReaderTests : IDisposable
{
    private const string Boundary = "----b0undary";

    private readonly FormSpoolFolder _folder = new();
    private readonly FormSpool _spool;

    public MultipartFormReaderTests() => _spool = _folder.CreateSpool();

    public void Dispose() => _folder.DeleteAll();

    private Task<FormContent> ReadAsync(string body, long maxBytes = 1 << 20, bool trickle = false, string boundary = Boundary)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Stream stream = trickle ? new TricklingStream(bytes) : new MemoryStream(bytes);
        return MultipartFormReader.ReadAsync(stream, boundary, maxBytes, _spool, CancellationToken.None);
    }

    private static string Field(string name, string value) => $"--{Boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n";

    private const string End = "--" + Boundary + "--\r\n";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FieldsAndFilesArriveWholeAlsoWhenTheBodyTricklesInOneByteReads(bool trickle)
    {
        var body = Field("title", "Trial 3") + Field("title", "again")
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nPNG\r\n--{Boundary[..4]}\r\n\r\n"
            + End;
        var form = await ReadAsync(body, trickle: trickle);

        Assert.Equal(["Trial 3", "again"], form.Fields["title"]);
        var file = Assert.Single(form.Files);
        Assert.Equal("photo", file.FieldName);
        Assert.Equal("a.png", file.FileName);
        Assert.Equal("image/png", file.ContentType);

        // A line that starts like the boundary but stops short is content.
        Assert.Equal("PNG\r\n--" + Boundary[..4] + "\r\n", Encoding.ASCII.GetString(file.Content.Span));
    }

    [Fact]
    public async Task ThePreambleAndTheEpilogueAreIgnored()
    {
        var body = "This is the preamble.\r\nIt has lines.\r\n" + Field("a", "1") + End + "epilogue\r\nmore epilogue";
        var form = await ReadAsync(body);
        Assert.Equal(["1"], form.Fields["a"]);
        Assert.Single(form.Fields);
    }

    [Theory]
    [InlineData(" ")]
    [InlineData(" \t \t")]
    public async Task TransportPaddingAfterABoundaryIsAllowed(string padding)
    {
        var body = $"--{Boundary}{padding}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--{Boundary}--";
        var form = await ReadAsync(body);
        Assert.Equal(["1"], form.Fields["a"]);
    }

    [Fact]
    public async Task CharactersAfterABoundaryOtherThanPaddingAre400()
    {
        var body = $"--{Boundary}x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" + End;
        await Assert.ThrowsAsync<MultipartFormatException>(() => ReadAsync(body));
    }

    [Theory]
    [InlineData("form-data; name=\"a \\\"quoted\\\" name\"", "a \"quoted\" name")]
    [InlineData("form-data; name=\"semi;colon\"", "semi;colon")]
    [InlineData("form-data; name=\"back\\\\slash\"", "back\\slash")]
    [InlineData("form-data; name=plain", "plain")]
    [InlineData("FORM-DATA; NAME=\"upper\"", "upper")]
    [InlineData("form-data;name=\"tight\"", "tight")]
    [InlineData("form-data; name=\"caf\u00c3\u00a9\"", "café")]
    public async Task QuotedNamesAreUnescaped(string disposition, string name)
    {
        // Part headers are read as UTF-8, as browsers send names: the Latin-1 pair in the case above is é's two bytes.
        var bytes = Encoding.Latin1.GetBytes($"--{Boundary}\r\nContent-Disposition: {disposition}\r\n\r\nv\r\n{End}");
        var form = await MultipartFormReader.ReadAsync(new MemoryStream(bytes), Boundary, 1 << 20, _spool, CancellationToken.None);
        Assert.Equal(["v"], form.Fields[name]);
    }

    [Theory]
    [InlineData("filename=\"plain.txt\"", "plain.txt")]
    [InlineData("filename=\"C:\\\\fakepath\\\\a.txt\"", "a.txt")]
    [InlineData("filename=\"../../etc/passwd\"", "passwd")]
    [InlineData("filename*=UTF-8''caf%C3%A9.txt", "café.txt")]
    [InlineData("filename=\"fallback.txt\"; filename*=UTF-8''%E2%9C%93.txt", "✓.txt")]
    [InlineData("filename*=UTF-8'en'..%2F..%2Fx.txt", "x.txt")]
    public async Task FileNamesComeFromFilenameOrFilenameStarWithoutFolders(string parameter, string fileName)
    {
        var body = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"f\"; {parameter}\r\n\r\nbytes\r\n{End}";
        var file = Assert.Single((await ReadAsync(body)).Files);
        Assert.Equal(fileName, file.FileName);
        Assert.Equal("application/octet-stream", file.ContentType);
    }

    [Fact]
    public async Task AnEmptyFileInputIsNoFileButAnEmptyNamedFileIsOne()
    {
        var body = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"none\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n"
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"empty.txt\"\r\n\r\n\r\n"
            + End;
        var form = await ReadAsync(body);
        var file = Assert.Single(form.Files);
        Assert.Equal("empty", file.FieldName);
        Assert.Equal(0, file.Length);
        Assert.Empty(form.Fields);
    }

    [Fact]
    public async Task APartWithoutFormDataDispositionIsSkipped()
    {
        var body = $"--{Boundary}\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\nskip\r\n"
            + $"--{Boundary}\r\nContent-Type: text/plain\r\n\r\nskip too\r\n"
            + Field("kept", "1") + End;
        var form = await ReadAsync(body);
        Assert.Equal(["kept"], form.Fields.Keys);
    }

    [Theory]
    [InlineData("--" + Boundary + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n")]
    [InlineData("--" + Boundary + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1")]
    [InlineData("--" + Boundary + "\r\nContent-Disposition: form-data; name=\"a\"\r\n")]
    [InlineData("--" + Boundary + "\r\nContent-Disposition: form-data; na")]
    [InlineData("--" + Boundary)]
    [InlineData("no boundary at all")]
    [InlineData("")]
    public async Task AFormWithoutItsClosingBoundaryIs400(string body)
    {
        await Assert.ThrowsAsync<MultipartFormatException>(() => ReadAsync(body));
        await Assert.ThrowsAsync<MultipartFormatException>(() => ReadAsync(body, trickle: true));
    }

    [Fact]
    public async Task PartHeadersOverTheLimitAre400()
    {
        var longHeader = "X-Pad: " + new string('p', MultipartFormReader.MaxPartHeaderBytes);
        var body = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n{longHeader}\r\n\r\n1\r\n{End}";
        var ex = await Assert.ThrowsAsync<MultipartFormatException>(() => ReadAsync(body));
        Assert.Contains("too large", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManySmallPartHeadersOverTheLimitAre400()
    {
        var headers = string.Concat(Enumerable.Range(0, 40).Select(i => $"X-{i}: {new string('p', 500)}\r\n"));
        var body = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n{headers}\r\n1\r\n{End}";
        await Assert.ThrowsAsync<MultipartFormatException>(() => ReadAsync(body));
    }

    [Fact]
    public async Task MorePartHeadersThanTheLimitAre400()
    {
        var headers = string.Concat(Enumerable.Range(0, MultipartFormReader.MaxPartHeaders + 1).Select(i => $"X-{i}: 1\r\n"));
        var body = $"--{Boundary}\r\n{headers}\r\n1\r\n{End}";
        await Assert.ThrowsAsync<MultipartFormatException>(() => ReadAsync(body));
    }

    [Theory]
    [InlineData("NoColon")]
    [InlineData(": no name")]
    public async Task AMalformedPartHeaderIs400(string header)
    {
        var body = $"--{Boundary}\r\n{header}\r\n\r\n1\r\n{End}";
        await Assert.ThrowsAsync<MultipartFormatException>(() => ReadAsync(body));
    }

    [Fact]
    public async Task ATextFieldOverTheLimitIsInvalidData()
    {
        var body = Field("a", new string('x', 200)) + End;
        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAsync(body, maxBytes: 100));
    }

    [Fact]
    public async Task ABoundarySplitAcrossEveryReadIsStillFoundInALargeFile()
    {
        // A file larger than the reader's buffer, arriving one byte per read: the delimiter is split at every position.
        var content = new string('z', 70_000) + "\r\n--" + Boundary[..5];
        var body = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\n\r\n{content}\r\n{End}";
        var form = await ReadAsync(body, trickle: true);
        var file = Assert.Single(form.Files);
        Assert.Equal(content.Length, file.Length);
        Assert.Equal(content, Encoding.ASCII.GetString(file.Content.Span));
    }

    /// <summary>A body that gives at most one byte per read, as a slow network would.</summary>
    private sealed class TricklingStream(byte[] bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => bytes.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty || _position == bytes.Length)
            {
                return 0;
            }

            buffer[0] = bytes[_position++];
            return 1;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            return Read(buffer.Span);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
