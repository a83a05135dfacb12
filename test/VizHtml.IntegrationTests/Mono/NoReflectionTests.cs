using System.Net.Http;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Mono;

/// <summary>
/// IL2CPP strips what it does not see used, and the serializer's reflection with it: under Mono with System.Text.Json's
/// reflection switched off, VizData, the version 2 handshake, acknowledgements and the served script still work.
/// </summary>
public sealed class NoReflectionTests
{
    [Fact]
    public async Task WithoutSerializerReflectionVizDataTheHandshakeAndTheScriptStillWork()
    {
        await using var mono = await MonoProcess.StartAsync("noreflection");
        using var http = new HttpClient { Timeout = TestServer.Timeout };
        var script = await http.GetAsync(new Uri($"http://127.0.0.1:{mono.Port}/vizhtml/vizhtml.js"));
        Assert.Equal(System.Net.HttpStatusCode.OK, script.StatusCode);

        var received = new EventLog<(string Event, string Data)>();
        await using var client = new VizHtmlClient(new Uri($"http://127.0.0.1:{mono.Port}/"));
        client.OnMessage("got", e => received.Add(("got", e.Data.ToString())));
        client.OnMessage("b", e => received.Add(("b", e.Data.ToString())));
        await client.StartAsync().WaitAsync(TestServer.Timeout);
        client.Send("set", new VizData { ["x"] = 5 });
        await mono.SendAsync("broadcast 7");

        var items = await received.WaitForCountAsync(2);
        Assert.Contains(("got", """{"x":5,"list":[1,2]}"""), items);
        Assert.Contains(("b", """{"n":7}"""), items);
        Assert.DoesNotContain(mono.Lines.Items, l => l.StartsWith("LOG", StringComparison.Ordinal));
    }
}
