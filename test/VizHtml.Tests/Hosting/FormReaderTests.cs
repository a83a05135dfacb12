using System.Text;
using Microsoft.AspNetCore.Http;
using VizHtml.Hosting;
using VizHtml.Hosting.Kestrel;
using VizHtml.Http;

namespace VizHtml.Tests.Hosting;

public sealed class FormReaderTests : IDisposable
{
    private readonly FormSpoolFolder _folder = new();
    private readonly FormSpool _spool;

    public FormReaderTests() => _spool = _folder.CreateSpool();

    public void Dispose() => _folder.DeleteAll();

    private Task<FormContent> ReadAsync(DefaultHttpContext context, long maxBytes) =>
        FormReader.ReadAsync(context, maxBytes, _spool, CancellationToken.None);

    private static DefaultHttpContext Post(string contentType, string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = contentType;
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        return context;
    }

    [Fact]
    public async Task UrlEncodedFieldsKeepRepeatedValuesInOrder()
    {
        var form = await ReadAsync(Post("application/x-www-form-urlencoded", "name=Ada+L%C3%B6w&color=red&color=blue&empty="), 1024);
        Assert.Equal(["Ada Löw"], form.Fields["name"]);
        Assert.Equal(["red", "blue"], form.Fields["color"]);
        Assert.Equal([""], form.Fields["empty"]);
        Assert.Empty(form.Files);
    }

    [Fact]
    public async Task MultipartGivesFieldsAndFilesAndSkipsAnEmptyFileInput()
    {
        const string Body = "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nTrial 3\r\n"
            + "--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"C:\\fakepath\\a.png\"\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n"
            + "--b\r\nContent-Disposition: form-data; name=\"nothing\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n"
            + "--b--\r\n";
        var form = await ReadAsync(Post("multipart/form-data; boundary=b", Body), 4096);
        Assert.Equal(["Trial 3"], form.Fields["title"]);
        var file = Assert.Single(form.Files);
        Assert.Equal("photo", file.FieldName);
        Assert.Equal("a.png", file.FileName);
        Assert.Equal("image/png", file.ContentType);
        Assert.Equal("PNGDATA"u8.ToArray(), file.Content.ToArray());
    }

    [Fact]
    public async Task AFormOverTheLimitIsRefusedWith413()
    {
        var ex = await Assert.ThrowsAsync<FormRejectedException>(() => ReadAsync(Post("application/x-www-form-urlencoded", "a=" + new string('x', 2000)), 100));
        Assert.Equal(413, ex.StatusCode);
        Assert.Contains("100 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMultipartPartOverTheLimitIsRefusedWith413()
    {
        var body = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\n\r\n" + new string('x', 5000) + "\r\n--b--\r\n";
        var ex = await Assert.ThrowsAsync<FormRejectedException>(() => ReadAsync(Post("multipart/form-data; boundary=b", body), 1000));
        Assert.Equal(413, ex.StatusCode);
    }

    [Fact]
    public async Task MultipartWithoutABoundaryIsRefusedWith400()
    {
        var ex = await Assert.ThrowsAsync<FormRejectedException>(() => ReadAsync(Post("multipart/form-data", "--b--"), 1000));
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public async Task TooManyFieldsAreRefused()
    {
        var body = string.Join('&', Enumerable.Range(0, 3000).Select(i => $"f{i}=1"));
        var ex = await Assert.ThrowsAsync<FormRejectedException>(() => ReadAsync(Post("application/x-www-form-urlencoded", body), 1 << 20));
        Assert.Equal(413, ex.StatusCode);
    }

    private static string FilePart(string name, byte[] content) =>
        $"--b\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        + Encoding.Latin1.GetString(content) + "\r\n";

    private static DefaultHttpContext MultipartPost(params (string Name, byte[] Content)[] files)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "multipart/form-data; boundary=b";
        var bytes = Encoding.Latin1.GetBytes(string.Concat(files.Select(f => FilePart(f.Name, f.Content))) + "--b--\r\n");
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        return context;
    }

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] ReadAll(VizFormFile file)
    {
        using var stream = file.OpenRead();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task FilesPastTheFormsFirst64KiBGoToItsTemporaryFileAndTheRestStayInMemory()
    {
        var first = Bytes(40 * 1024, 1);
        var crossing = Bytes(40 * 1024, 2);
        var small = Bytes(10, 3);

        var form = await ReadAsync(MultipartPost(("first", first), ("crossing", crossing), ("small", small)), 1 << 20);

        Assert.Equal([false, true, false], form.Files.Select(f => f.IsSpooled));
        Assert.Equal(first, form.Files[0].Content.ToArray());
        Assert.Equal(crossing, ReadAll(form.Files[1]));
        Assert.Equal(small, form.Files[2].Content.ToArray());
        Assert.Single(Directory.GetFiles(_folder.Path!));
    }

    [Fact]
    public async Task SpooledFilesShareTheFormsOneFileAndReadBackExactlyFromAnyPosition()
    {
        var a = Bytes(100_000, 4);
        var b = Bytes(300_000, 5);

        var form = await ReadAsync(MultipartPost(("a", a), ("b", b)), 1 << 20);

        Assert.All(form.Files, f => Assert.True(f.IsSpooled));
        Assert.Equal(a, ReadAll(form.Files[0]));
        Assert.Equal(b, ReadAll(form.Files[1]));
        Assert.Equal(b, form.Files[1].Content.ToArray());
        using var stream = form.Files[1].OpenRead();
        stream.Seek(-10, SeekOrigin.End);
        var tail = new byte[20];
        Assert.Equal(10, stream.ReadAtLeast(tail, 20, throwOnEndOfStream: false));
        Assert.Equal(b[^10..], tail[..10]);
        Assert.Single(Directory.GetFiles(_folder.Path!));
    }

    [Fact]
    public async Task DisposingTheSpoolDeletesItsFileAndASpooledFileCanNoLongerBeOpened()
    {
        var form = await ReadAsync(MultipartPost(("big", Bytes(100_000, 6))), 1 << 20);
        var file = Assert.Single(form.Files);
        Assert.Single(Directory.GetFiles(_folder.Path!));

        _spool.Dispose();

        Assert.Empty(Directory.GetFiles(_folder.Path!));
        var ex = Assert.Throws<ObjectDisposedException>(() => file.OpenRead());
        Assert.Contains("big.bin", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => file.Content);
    }

    [Fact]
    public async Task ASpoolKeptForAWaiterOutlivesDisposeUntilTheFolderIsDeleted()
    {
        var content = Bytes(100_000, 7);
        var form = await ReadAsync(MultipartPost(("big", content)), 1 << 20);
        var folder = _folder.Path!;

        form.Files[0].KeepForWaiter();
        _spool.Dispose();

        Assert.Equal(content, ReadAll(form.Files[0]));
        _folder.DeleteAll();
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public async Task AFileOverTheLimitThatWouldBeSpooledIsRefusedWith413()
    {
        var ex = await Assert.ThrowsAsync<FormRejectedException>(() => ReadAsync(MultipartPost(("big", Bytes(200_000, 8))), 100_000));
        Assert.Equal(413, ex.StatusCode);
    }
}
