using System.Text.Json.Nodes;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Time;

/// <summary>The start of a protocol version 2 connection, as docs/protocol.md describes it and vizhtml.js speaks it.</summary>
internal static class Version2Socket
{
    public static Task<RawClient> OpenAsync(TestServer test) => RawClient.ConnectAsync(new Uri(test.SocketUri + "?v=2"));

    /// <summary>Sends <c>$hello</c> (a new session, or a resume with <paramref name="token"/>) and returns the <c>$welcome</c> data.</summary>
    public static async Task<JsonObject> HelloAsync(RawClient client, string? token = null, long lastSeq = 0)
    {
        var data = token is null ? new JsonObject() : new JsonObject { ["token"] = token, ["lastSeq"] = lastSeq };
        await client.SendTextAsync(new JsonObject { ["event"] = "$hello", ["data"] = data }.ToJsonString());
        var (name, welcome) = await client.ReceiveAsync();
        Assert.Equal("$welcome", name);
        return (JsonObject)welcome!;
    }
}
