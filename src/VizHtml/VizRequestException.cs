using System.Text.Json;
using VizHtml.Protocol;

namespace VizHtml;

/// <summary>
/// A request that got no answer, or an error for one: thrown by <c>RequestAsync</c>, and thrown by a request handler to
/// answer with a code and message of its own. <see cref="Code"/> is stable; the message is for people.
/// </summary>
/// <remarks>
/// Codes of VizHtml: <c>no_handler</c> (nobody answers that name), <c>handler_error</c> (the handler threw; its exception
/// text is not sent unless <see cref="VizHtmlOptions.DetailedErrors"/> is on), <c>invalid_data</c> (the data, or the
/// answer, does not fit the expected type), <c>timeout</c> (no answer in time), <c>session_lost</c> (the session ended
/// before the answer came), <c>not_supported</c> (the other side does not take requests: protocol version 1, or an older peer).
/// </remarks>
public sealed class VizRequestException : Exception
{
    /// <summary>Creates an error with a code and a message.</summary>
    /// <param name="code">A stable code, e.g. <c>"busy"</c>, <c>"not_found"</c>.</param>
    /// <param name="message">What a person should read.</param>
    public VizRequestException(string code, string message)
        : base(message)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        Code = code;
    }

    /// <summary>Creates an error with the code <c>handler_error</c>.</summary>
    public VizRequestException()
        : this(RequestErrors.HandlerError, "the request failed")
    {
    }

    /// <summary>Creates an error with the code <c>handler_error</c> and a message.</summary>
    public VizRequestException(string message)
        : this(RequestErrors.HandlerError, message)
    {
    }

    /// <summary>Creates an error with the code <c>handler_error</c>, a message and its cause.</summary>
    public VizRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = RequestErrors.HandlerError;
    }

    /// <summary>The error's code: one of VizHtml's (see the remarks) or one a handler chose.</summary>
    public string Code { get; }

    /// <summary>A reply's value bound to <typeparamref name="T"/>, or its error thrown as a <see cref="VizRequestException"/>.</summary>
    internal static T Unwrap<T>(RequestReply reply, string eventName, JsonSerializerOptions options)
    {
        if (reply.ErrorCode is { } code)
        {
            throw new VizRequestException(code, reply.ErrorMessage is { Length: > 0 } message ? message : code);
        }

        try
        {
            return VizData.FromNode(reply.Value).As<T>(options);
        }
        catch (JsonException ex)
        {
            throw new VizRequestException(RequestErrors.InvalidData, $"the answer to request '{eventName}' does not fit {typeof(T).Name}: {ex.Message}");
        }
    }
}

/// <summary>The error codes of requests (docs/protocol.md); the message beside a code is for people.</summary>
internal static class RequestErrors
{
    public const string NoHandler = "no_handler";
    public const string HandlerError = "handler_error";
    public const string InvalidData = "invalid_data";
    public const string Timeout = "timeout";
    public const string SessionLost = "session_lost";
    public const string NotSupported = "not_supported";
}
