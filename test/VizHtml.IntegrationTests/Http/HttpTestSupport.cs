using System.Net;
using System.Net.Sockets;
using System.Text;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Http;

/// <summary>HttpClients for the tests: redirects are never followed, so a test sees the 302/303 itself.</summary>
internal static class TestHttp
{
    public static HttpClient Client(TestServer test) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = test.HttpBase,
            Timeout = TestServer.Timeout,
        };

    public static async Task<string> BodyAsync(HttpResponseMessage response)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        return await response.Content.ReadAsStringAsync(timeout.Token);
    }

    public static async Task<byte[]> BytesAsync(HttpResponseMessage response)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        return await response.Content.ReadAsByteArrayAsync(timeout.Token);
    }

    /// <summary>GETs <paramref name="path"/> and returns its status and body.</summary>
    public static async Task<(HttpStatusCode Status, string Body)> GetTextAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        return (response.StatusCode, await BodyAsync(response));
    }

    public static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}

/// <summary>A temporary directory removed with everything in it (symlinks are removed, never followed).</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Root = Directory.CreateTempSubdirectory("vizhtml-http-").FullName;

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public string Write(string relative, string content) => WriteBytes(relative, Encoding.UTF8.GetBytes(content));

    public string WriteBytes(string relative, byte[] content)
    {
        var full = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        return full;
    }

    public string CreateDirectory(string relative) => Directory.CreateDirectory(PathOf(relative)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail the test that used it.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}

/// <summary>
/// One HTTP/1.1 request written byte for byte over TCP, so the request target reaches Kestrel exactly as written
/// (HttpClient and Uri would resolve "..", decode "%2e" and the like before sending).
/// </summary>
internal static class RawHttp
{
    public sealed record Response(int Status, string Head, string Body);

    public static async Task<Response> GetAsync(int port, string target)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var request = $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, timeout.Token);

        // Connection: close makes Kestrel end the stream after the response, so reading to the end is the whole answer.
        using var received = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        var text = Encoding.UTF8.GetString(received.ToArray());
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headEnd > 0, $"No complete HTTP response for {target}: {text}");
        var head = text[..headEnd];
        var statusLine = head[..head.IndexOf("\r\n", StringComparison.Ordinal)];
        var status = int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return new Response(status, head, text[(headEnd + 4)..]);
    }
}
