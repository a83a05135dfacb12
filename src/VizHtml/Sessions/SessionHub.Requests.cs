using System.Text.Json;
using VizHtml.Protocol;

namespace VizHtml.Sessions;

/// <summary>Requests from clients: handed to the request handlers on the dispatcher, as messages are.</summary>
internal sealed partial class SessionHub
{
    /// <summary>How data is written and bound: the server's <see cref="VizHtmlOptions.JsonSerializerOptions"/>.</summary>
    public JsonSerializerOptions JsonOptions => _serializer.Options;

    /// <summary>The server's options.</summary>
    public VizHtmlOptions Options => _options;

    /// <summary>A request from a client, for its handler: the read loop may run it itself when the dispatcher is idle.</summary>
    public void DeliverRequest(Session session, InboundEnvelope envelope)
    {
        Metrics?.EventReceived();
        session.CountEventReceived();
        var e = new VizRequestEvent(envelope.EventName!, envelope.Payload, session.Client, envelope.Req);
        _dispatcher.PostFromReader(() => _router.Requests.DeliverAsync(e));
    }
}
