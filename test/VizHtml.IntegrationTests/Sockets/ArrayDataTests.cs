using System.Text.Json.Nodes;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>Arrays and lists in a <see cref="VizData"/> bag, the form the README gives for the original's <c>viz.Data(pos=[...])</c>, both ways over a real socket.</summary>
public sealed class ArrayDataTests
{
    [Theory, OnEveryHost]
    public async Task ArraysAndListsInAnInitializerArriveAsJsonArrays(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var (client, _) = await test.ConnectAsync();
        using (client)
        {
            // Before VizData converted arrays and lists, these lines did not compile (CS0029).
            test.Server.SendAll("state", new VizData
            {
                ["pos"] = new[] { 1.5, 2.5 },
                ["names"] = new List<string> { "a", "b" },
                ["counts"] = new[] { 1, 2, 3 },
                ["flags"] = new List<bool> { true, false },
                ["points"] = new[] { new VizData { ["x"] = 1 }, new VizData { ["x"] = 2 } },
            });

            var (name, data) = await client.ReceiveAsync();

            Assert.Equal("state", name);
            Assert.Equal("""{"pos":[1.5,2.5],"names":["a","b"],"counts":[1,2,3],"flags":[true,false],"points":[{"x":1},{"x":2}]}""", data!.ToJsonString());
        }
    }

    [Theory, OnEveryHost]
    public async Task ArraysAClientSendsAreReadBackAsArraysAndLists(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        var read = new EventLog<(double First, double Second, int Length, double[] Pos, List<string> Names, int[] Counts, string Json)>();
        test.Server.OnMessage("state", e =>
        {
            dynamic d = e.Data;
            read.Add(((double)d.pos[0], (double)e.Data["pos"][1], (int)d.pos.Length, e.Data["pos"].As<double[]>(),
                e.Data.Get<List<string>>("names"), e.Data["counts"].AsList().Select(c => (int)c).ToArray(), e.Data.ToJson()));
        });
        var (client, _) = await test.ConnectAsync();
        using (client)
        {
            await client.SendTextAsync("""{"event":"state","data":{"pos":[1.5,2.5],"names":["a","b"],"counts":[1,2,3]}}""");

            var seen = Assert.Single(await read.WaitForCountAsync(1));

            Assert.Equal(1.5, seen.First);
            Assert.Equal(2.5, seen.Second);
            Assert.Equal(2, seen.Length);
            Assert.Equal([1.5, 2.5], seen.Pos);
            Assert.Equal(["a", "b"], seen.Names);
            Assert.Equal([1, 2, 3], seen.Counts);
            Assert.Equal("""{"pos":[1.5,2.5],"names":["a","b"],"counts":[1,2,3]}""", seen.Json);
        }
    }

    [Theory, OnEveryHost]
    public async Task ArraysAClientSendsGoBackOutAsTheyCame(TestHost host)
    {
        await using var test = await TestServer.StartAsync(host);
        test.Server.OnMessage("echo", e => e.Client.Send("echoed", new VizData
        {
            ["pos"] = e.Data["pos"].As<double[]>(),
            ["names"] = e.Data.Get<List<string>>("names"),
        }));
        var (client, _) = await test.ConnectAsync();
        using (client)
        {
            await client.SendTextAsync("""{"event":"echo","data":{"pos":[-0.25,3],"names":["x","y","z"]}}""");

            var (name, data) = await client.ReceiveAsync();

            Assert.Equal("echoed", name);
            Assert.Equal([-0.25, 3.0], data!["pos"]!.AsArray().Select(n => n!.GetValue<double>()));
            Assert.Equal(["x", "y", "z"], data["names"]!.AsArray().Select(n => n!.GetValue<string>()));
            Assert.IsType<JsonArray>(data["names"]);
        }
    }
}
