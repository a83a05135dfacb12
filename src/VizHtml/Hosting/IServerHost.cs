namespace VizHtml.Hosting;

/// <summary>A running web server of VizHtml's own (Kestrel or the standalone one), as the facade starts and stops it.</summary>
internal interface IServerHost : IAsyncDisposable
{
    /// <summary>The port actually bound (the chosen one when the options asked for 0).</summary>
    int Port { get; }

    /// <summary>Stops listening and closes the connections, within <paramref name="cancellationToken"/>.</summary>
    Task StopAsync(CancellationToken cancellationToken);
}
