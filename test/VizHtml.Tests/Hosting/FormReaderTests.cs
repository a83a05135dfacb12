using System.Text;
using Microsoft.AspNetCore.Http;
using VizHtml.Hosting;
using VizHtml.Http;

namespace VizHtml.Tests.Hosting;

public sealed class FormReaderTests
{
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
        var form = await FormReader.ReadAsync(Post("application/x-www-form-urlencoded", "name=Ada+L%C3%B6w&color=red&color=blue&empty="), 1024);
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
        var form = await FormReader.ReadAsync(Post("multipart/form-data; boundary=b", Body), 4096);
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
        var ex = await Assert.ThrowsAsync<FormRejectedException>(() => FormReader.ReadAsync(Post("application/x-www-form-urlencoded", "a=" + new string('x', 2000)), 100));
        Assert.Equal(413, ex.StatusCode);
        Assert.Contains("100 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMultipartPartOverTheLimitIsRefusedWith413()
    {
        var body = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\n\r\n" + new string('x', 5000) + "\r\n--b--\r\n";
        var ex = await Assert.ThrowsAsync<FormRejectedException>(() => FormReader.ReadAsync(Post("multipart/form-data; boundary=b", body), 1000));
        Assert.Equal(413, ex.StatusCode);
    }

    [Fact]
    public async Task MultipartWithoutABoundaryIsRefusedWith400()
    {
        var ex = await Assert.ThrowsAsync<FormRejectedException>(() => FormReader.ReadAsync(Post("multipart/form-data", "--b--"), 1000));
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public async Task TooManyFieldsAreRefused()
    {
        var body = string.Join('&', Enumerable.Range(0, 3000).Select(i => $"f{i}=1"));
        var ex = await Assert.ThrowsAsync<FormRejectedException>(() => FormReader.ReadAsync(Post("application/x-www-form-urlencoded", body), 1 << 20));
        Assert.Equal(413, ex.StatusCode);
    }
}
