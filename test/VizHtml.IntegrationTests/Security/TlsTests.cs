using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Security;

public sealed class TlsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("vizhtml-tls-");
    private readonly X509Certificate2 _certificate;

    public TlsTests()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=VizHtml test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(CertPath, _certificate.ExportCertificatePem());
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
    }

    private string CertPath => Path.Combine(_dir.FullName, "server.crt");

    private string KeyPath => Path.Combine(_dir.FullName, "server.key");

    [Theory, OnOwnHosts]
    public async Task APemCertificateServesHttpsAndWss(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o =>
        {
            o.CertificatePath = CertPath;
            o.CertificateKeyPath = KeyPath;
        });
        test.Server.RegisterHtml("p", "<p>over tls</p>");
        test.Server.OnMessage("ping", e => e.Client.Send("pong", e.Data));
        Assert.Equal("https", test.Server.GetServerUrl().Scheme);

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == _certificate.Thumbprint };
        using var http = new HttpClient(handler) { Timeout = TestServer.Timeout };
        Assert.Equal("<p>over tls</p>", await http.GetStringAsync($"https://127.0.0.1:{test.Server.Port}/vizhtml/p/"));

        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == _certificate.Thumbprint;
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{test.Server.Port}/vizhtml/socket"), timeout.Token);
        await socket.SendAsync("""{"event":"ping","data":7}"""u8.ToArray(), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[256];
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal("""{"event":"pong","data":7}""", System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count));
    }

    [Theory, OnOwnHosts]
    public async Task PlainHttpToATlsServerGetsNoPage(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host, o => o.Certificate = _certificate);
        test.Server.RegisterHtml("p", "<p>over tls</p>");
        using var http = new HttpClient { Timeout = TestServer.Timeout };

        var failure = await Record.ExceptionAsync(async () =>
        {
            var response = await http.GetAsync($"http://127.0.0.1:{test.Server.Port}/vizhtml/p/");
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        });
        Assert.True(failure is null or HttpRequestException, failure?.ToString());
    }

    [Theory, OnOwnHosts]
    public void AMissingCertificateFileIsNamed(TestHost host)
    {
        var options = new VizHtmlOptions
        {
            Host = host == TestHost.Standalone ? VizHtmlHost.Standalone : VizHtmlHost.Automatic,
            CertificatePath = Path.Combine(_dir.FullName, "nope.pem"),
        };
        var ex = Assert.Throws<ArgumentException>(() => new VizHtmlServer(options));
        Assert.Contains("CertificatePath", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _dir.Delete(recursive: true);
    }
}
