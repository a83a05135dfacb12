namespace VizHtml;

/// <summary>
/// Thrown by <see cref="VizHtmlServer.StartAsync"/> (and by the first use of <see cref="VizHtmlServer.Default"/>) when
/// another program already listens on the port. The message is one line that names the port and how to choose another.
/// </summary>
public sealed class VizHtmlPortInUseException : IOException
{
    /// <summary>Creates the exception for <paramref name="port"/>; <paramref name="innerException"/> is Kestrel's bind failure.</summary>
    public VizHtmlPortInUseException(int port, Exception? innerException = null)
        : base(
            $"Port {port} is already in use by another program. Choose another with --port N (the samples), the {VizHtmlOptions.PortEnvironmentVariable} environment variable, or VizHtmlOptions.Port (0 lets the system pick a free one).",
            innerException)
    {
        Port = port;
    }

    /// <summary>The port that could not be bound.</summary>
    public int Port { get; }
}
