using System.Text.Json;
using VizHtml.Protocol;

namespace VizHtml;

/// <summary>
/// A request from a page (<c>socket.request(name, data)</c>) or another client, for the handler registered with
/// <c>VizHtmlServer.OnRequest</c>: what the handler returns is the answer.
/// </summary>
public sealed class VizRequestEvent
{
    private readonly long _req;

    internal VizRequestEvent(string eventName, VizData data, VizClient client, long req)
    {
        Event = eventName;
        Data = data;
        Client = client;
        _req = req;
    }

    /// <summary>The request's name as the page sent it (case-sensitive).</summary>
    public string Event { get; }

    /// <summary>The request's data; <see cref="VizDataKind.Null"/> when the page sent none.</summary>
    public VizData Data { get; }

    /// <summary>The client that asked: the same instance as in its connect, message and disconnect events.</summary>
    public VizClient Client { get; }

    /// <summary>Answers with <paramref name="value"/> (kept for a resume like any reliable event).</summary>
    /// <exception cref="NotSupportedException">System.Text.Json cannot write <paramref name="value"/>.</exception>
    internal void Answer(object? value, JsonSerializerOptions options) => Client.Session.Reply(RequestEnvelope.Reply(_req, value, options));

    /// <summary>Answers with an error.</summary>
    internal void Fail(string code, string message) => Client.Session.Reply(RequestEnvelope.ReplyError(_req, code, message));
}
