using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>viz.Data and plain JSON values, page to server and server to page.</summary>
public sealed class DataRoundTripTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    // Written as JSON.stringify writes them, so the page side can be compared as text.
    private const string NestedJson =
        """{"name":"probe","count":3,"ratio":0.25,"negative":-7,"big":9007199254740991,"ok":true,"off":false,"none":null,"text":"ü€😀 \"quoted\"\n\ttab","nested":{"list":[1,2,{"deep":[true,false]}],"empty":{},"emptyList":[]}}""";

    [Theory]
    [OnEveryHost]
    public async Task ValuesThePageSendsReachTheHandlerExactly(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var hellos = RecorderPage.Register(server.Server);
        var values = new EventLog<VizMessageEvent>();
        server.Server.OnMessage("value", values.Add);
        await using var context = await browser.NewContextAsync();
        var (page, client) = await RecorderPage.OpenAsync(context, server, hellos, "sender");

        var sent = await page.EvaluateAsync<bool[]>(
            """
            nested => [
              socket.send('value', viz.Data(JSON.parse(nested))),
              socket.send('value', 42),
              socket.send('value', 'text'),
              socket.send('value', [1, 2, [3]]),
              socket.send('value', 1.5),
              socket.send('value', true),
              socket.send('value', null),
              socket.send('value'),
              socket.send('value', { plain: { object: [viz.Data({ inner: 'bag' })] } }),
            ]
            """,
            NestedJson).WaitAsync(TestServer.Timeout);
        Assert.All(sent, Assert.True);

        var received = await values.WaitForCountAsync(9);
        Assert.All(received, e => Assert.Same(client, e.Client));
        string[] expected =
        [
            NestedJson,
            "42",
            "\"text\"",
            "[1,2,[3]]",
            "1.5",
            "true",
            "null",
            "null",
            """{"plain":{"object":[{"inner":"bag"}]}}""",
        ];
        Assert.Equal(expected.Length, received.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            var want = VizData.Parse(expected[i]);
            Assert.True(want == received[i].Data, $"Value {i}: expected {want.ToJson()}, received {received[i].Data.ToJson()}.");
            Assert.Equal(want.ToJson(), received[i].Data.ToJson());
        }

        Assert.Equal(VizDataKind.Object, received[0].Data.Kind);
        Assert.Equal(42, (int)received[1].Data);
        Assert.Equal("text", (string?)received[2].Data);
        Assert.Equal(VizDataKind.Array, received[3].Data.Kind);
        Assert.Equal(1.5, (double)received[4].Data);
        Assert.True((bool)received[5].Data);
        Assert.True(received[6].Data.IsNull);
        Assert.True(received[7].Data.IsNull);

        // The original toolkit's handlers read viz.Data members as attributes.
        dynamic d = received[0].Data;
        int count = d.count;
        string name = d.name;
        string text = d.text;
        long big = d.big;
        int second = d.nested.list[1];
        bool deep = d.nested.list[2].deep[0];
        Assert.Equal(3, count);
        Assert.Equal("probe", name);
        Assert.Equal("ü€😀 \"quoted\"\n\ttab", text);
        Assert.Equal(9007199254740991L, big);
        Assert.Equal(2, second);
        Assert.True(deep);
    }

    [Theory]
    [OnEveryHost]
    public async Task ADataBagKeepsAMemberNamedProtoAndStaysAVizData(TestHost host)
    {
        // JSON.parse makes "__proto__" an ordinary own member; copying it with Object.assign would run the prototype
        // setter instead, losing the member and the bag's type.
        const string WithProto = """{"__proto__":{"polluted":true},"a":2}""";
        await using var server = await TestServer.StartAsync(host);
        var hellos = RecorderPage.Register(server.Server);
        var values = new EventLog<VizMessageEvent>();
        server.Server.OnMessage("value", values.Add);
        await using var context = await browser.NewContextAsync();
        var (page, _) = await RecorderPage.OpenAsync(context, server, hellos, "sender");

        var pageSide = await page.EvaluateAsync<string[]>(
            """
            json => {
              const bag = viz.Data(JSON.parse(json));
              socket.send('value', bag);
              return [String(bag instanceof viz.Data), JSON.stringify(bag), String(({}).polluted)];
            }
            """,
            WithProto).WaitAsync(TestServer.Timeout);

        Assert.Equal(["true", WithProto, "undefined"], pageSide);
        var received = Assert.Single(await values.WaitForCountAsync(1)).Data;
        Assert.Equal(VizData.Parse(WithProto), received);
        Assert.True(received.Has("__proto__"));
    }

    [Theory]
    [OnEveryHost]
    public async Task ValuesTheServerSendsReachThePageExactly(TestHost host)
    {
        await using var server = await TestServer.StartAsync(host);
        var hellos = RecorderPage.Register(server.Server);
        await using var context = await browser.NewContextAsync();
        var (page, client) = await RecorderPage.OpenAsync(context, server, hellos, "receiver");

        object?[] values =
        [
            VizData.Parse(NestedJson),
            new VizData { ["count"] = 3, ["name"] = "bag" },
            42,
            "text",
            new object[] { 1, 2, new[] { 3 } },
            1.5,
            true,
            null,
            new { name = "probe", count = 3, nested = new { list = new object[] { 1, 2, new { deep = new[] { true, false } } }, empty = new { } } },
            new Dictionary<string, object?> { ["Keep Case"] = "ü€😀", ["none"] = null },
        ];
        string[] expected =
        [
            NestedJson,
            """{"count":3,"name":"bag"}""",
            "42",
            "\"text\"",
            "[1,2,[3]]",
            "1.5",
            "true",
            "null",
            """{"name":"probe","count":3,"nested":{"list":[1,2,{"deep":[true,false]}],"empty":{}}}""",
            """{"Keep Case":"ü€😀","none":null}""",
        ];
        foreach (var value in values)
        {
            Assert.True(client.Send("value", value));
        }

        await RecorderPage.WaitForReceivedAsync(page, "value", values.Length);
        var received = await page.EvaluateAsync<string[]>(
            "() => window.received.filter(e => e.event === 'value').map(e => JSON.stringify(e.data))").WaitAsync(TestServer.Timeout);
        Assert.Equal(expected, received);

        // The same value through SendAll: serialized once for every client, received the same.
        Assert.Equal(1, server.Server.SendAll("broadcast", VizData.Parse(NestedJson)));
        await RecorderPage.WaitForReceivedAsync(page, "broadcast", 1);
        var broadcast = await page.EvaluateAsync<string>(
            "() => JSON.stringify(window.received.find(e => e.event === 'broadcast').data)").WaitAsync(TestServer.Timeout);
        Assert.Equal(NestedJson, broadcast);
    }
}
