namespace VizHtml;

/// <summary>Where a <see cref="VizHtmlClient"/>'s connection is, as <c>vizhtml.js</c>'s <c>state</c>.</summary>
public enum VizClientState
{
    /// <summary>Not started, or stopped (disposed, or <see cref="VizHtmlClientOptions.ConnectTimeout"/> passed).</summary>
    Closed,

    /// <summary>Started and trying to reach the server for the first time.</summary>
    Connecting,

    /// <summary>Connected and welcomed by the server.</summary>
    Connected,

    /// <summary>The connection was lost; retrying with backoff.</summary>
    Reconnecting,
}
