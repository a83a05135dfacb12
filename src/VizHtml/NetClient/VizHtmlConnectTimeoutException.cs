namespace VizHtml;

/// <summary>
/// Thrown by <see cref="VizHtmlClient.StartAsync"/> when the server was not reached within
/// <see cref="VizHtmlClientOptions.ConnectTimeout"/>. The message names the URL (never the access key) and the last attempt's failure.
/// </summary>
public sealed class VizHtmlConnectTimeoutException : TimeoutException
{
    /// <summary>Creates the exception for <paramref name="url"/>, a URL without the access key.</summary>
    public VizHtmlConnectTimeoutException(string url, TimeSpan timeout, string? lastFailure)
        : base($"Could not connect to {url} within {timeout.TotalSeconds:0.###} s" + (lastFailure is null ? "." : $"; last attempt: {lastFailure}"))
    {
        Url = url;
    }

    /// <summary>The socket URL the client tried, without the access key.</summary>
    public string Url { get; }
}
