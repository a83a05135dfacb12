using System.ComponentModel;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using VizHtml.Pages;

namespace VizHtml;

/// <summary>The HTTP half: pages, resources, forms, custom request handlers.</summary>
public sealed partial class VizHtmlServer
{
    /// <summary>Registers a page from an HTML string at <c>/vizhtml/&lt;name&gt;/</c>; registering a name again replaces it.</summary>
    /// <param name="name">The page name, e.g. <c>websocket</c>; letters, digits, '-', '_', '.' and '/' between segments.</param>
    /// <param name="html">The page's HTML; include the script with <c>&lt;script src="vizhtml.js"&gt;</c>.</param>
    /// <param name="directory">A directory whose files the page reaches by relative URL; <see langword="null"/> for none.</param>
    public void RegisterHtml(string name, string html, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(html);
        _pages.Add(Page.FromHtml(PageRegistry.NormalizeName(name), html, directory));
    }

    /// <summary>Registers a page from an HTML file (read on each request, so edits show on reload).</summary>
    /// <param name="name">The page name.</param>
    /// <param name="filePath">The HTML file.</param>
    /// <param name="directory">Where relative URLs are served from; <see langword="null"/> for the file's own directory.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public void RegisterFile(string name, string filePath, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(filePath);
        _pages.Add(Page.FromFile(PageRegistry.NormalizeName(name), filePath, directory));
    }

    /// <summary>Removes one page; later requests for it get 404.</summary>
    /// <returns>Whether the page was registered.</returns>
    public bool UnregisterPage(string name) => _pages.Remove(name);

    /// <summary>Removes every page.</summary>
    public void UnregisterAllPages() => _pages.Clear();

    /// <summary>Registers a whole folder: its index file at <c>/vizhtml/&lt;name&gt;/</c> and every file below it by relative URL.</summary>
    /// <param name="name">The page name.</param>
    /// <param name="directory">The folder.</param>
    /// <param name="indexFile">The page's HTML file, relative to <paramref name="directory"/>.</param>
    /// <exception cref="FileNotFoundException">The folder has no such index file.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public void RegisterFolder(string name, string directory, string indexFile = "index.html")
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(indexFile);
        _pages.Add(Page.FromFolder(PageRegistry.NormalizeName(name), directory, indexFile));
    }

    /// <summary>
    /// Registers a custom request handler for a page URL: it receives every request under <c>/vizhtml/&lt;name&gt;/</c>
    /// (any method, any path below, form data on posts) and answers with a <see cref="VizResponse"/>, or returns
    /// <see langword="null"/> to let default serving answer (a file from <paramref name="directory"/>, a form submit).
    /// </summary>
    /// <remarks>
    /// The handler runs where message handlers run (see <see cref="VizHtmlOptions.Dispatch"/>), so it may read program
    /// state without locks. A handler that does not answer within <see cref="VizHtmlOptions.RequestHandlerTimeout"/> gets
    /// the browser a 503; one that throws gets it a 500 (the exception is logged, never sent).
    /// </remarks>
    /// <param name="name">The page name.</param>
    /// <param name="handler">The handler.</param>
    /// <param name="directory">Where declined requests are served from; <see langword="null"/> for nowhere.</param>
    public void RegisterHandler(string name, Func<VizRequest, VizResponse?> handler, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _pages.Add(Page.FromHandler(PageRegistry.NormalizeName(name), handler, directory));
    }

    /// <summary>Calls <paramref name="handler"/> for every form submitted to a registered page or to <c>/vizhtml_form/</c>.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable OnFormSubmit(Action<VizFormSubmitEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _router.OnFormSubmit(handler);
    }

    /// <summary>
    /// Waits for the next form submit (the counterpart of the original's <c>yield waitFormSubmit()</c>).
    /// </summary>
    /// <param name="page">Only a form from this page; <see langword="null"/> for any form.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The submitted form, delivered where handlers are delivered.</returns>
    public Task<VizFormSubmitEvent> WaitFormSubmitAsync(string? page = null, CancellationToken cancellationToken = default)
    {
        var wanted = page is null ? null : PageRegistry.NormalizeName(page);
        var result = new TaskCompletionSource<VizFormSubmitEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        IDisposable? subscription = null;
        subscription = _router.OnFormSubmit(e =>
        {
            if ((wanted is null || e.Page == wanted) && result.TrySetResult(e))
            {
                subscription?.Dispose();
            }
        });
        if (result.Task.IsCompleted)
        {
            subscription.Dispose();
        }

        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() =>
            {
                subscription.Dispose();
                result.TrySetCanceled(cancellationToken);
            });
            _ = result.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return result.Task;
    }

    /// <summary>Opens the server's index, or <paramref name="page"/>, in this machine's default browser.</summary>
    /// <returns><see langword="false"/> when no browser could be started (the reason is logged).</returns>
    public bool OpenInBrowser(string? page = null)
    {
        var url = GetLocalUrl(page).ToString();
        var start = OperatingSystem.IsWindows() ? new ProcessStartInfo(url) { UseShellExecute = true }
            : OperatingSystem.IsMacOS() ? new ProcessStartInfo("open", [url])
            : new ProcessStartInfo("xdg-open", [url]);
        start.RedirectStandardError = !OperatingSystem.IsWindows();
        try
        {
            using var process = Process.Start(start);
            return process is not null;
        }
        catch (Win32Exception ex)
        {
            _logger.LogWarning("Could not open {Url} in a browser: {Problem}", url, ex.Message);
            return false;
        }
    }

    internal void RaiseFormSubmit(VizFormSubmitEvent form) => _dispatcher.Post(() => _router.Deliver(form));

    /// <summary>
    /// Runs a page's custom handler on the dispatcher. Returns the handler's answer, or declines with the form it read
    /// (so a declined post still becomes a form submit without reading the body twice).
    /// </summary>
    internal async Task<(VizResponse? Response, VizFormSubmitEvent? Form)> RunRequestHandlerAsync(HttpContext context, Page page, Func<VizRequest, VizResponse?> handler, string path)
    {
        using var timeout = new CancellationTokenSource(_options.RequestHandlerTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, context.RequestAborted);
        var token = linked.Token;
        var address = FormatAddress(context.Connection.RemoteIpAddress);
        VizFormSubmitEvent? form = null;
        if (HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType)
        {
            try
            {
                form = await FormReader.ReadAsync(context, page.Name, address, _options.MaxFormBytes).ConfigureAwait(false);
            }
            catch (FormReader.FormRejectedException ex)
            {
                return (VizResponse.Status(ex.StatusCode, ex.Message), null);
            }
        }

        var request = new VizRequest(
            context.Request.Method,
            page.Name,
            DecodeEncodedSlashes(path),
            context.Request.QueryString.Value ?? string.Empty,
            context.Request.Query.ToDictionary(q => q.Key, q => (IReadOnlyList<string>)q.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.Ordinal),
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            form,
            address,
            token);

        var answer = new TaskCompletionSource<VizResponse?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _dispatcher.Post(() =>
        {
            // The browser may have been answered 503 already: a request whose turn comes too late is skipped.
            if (token.IsCancellationRequested)
            {
                answer.TrySetCanceled(token);
                return;
            }

            try
            {
                answer.TrySetResult(handler(request));
            }
#pragma warning disable CA1031 // User code boundary: a failing handler answers 500 and the server carries on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                answer.TrySetException(ex);
            }
        });

        try
        {
            var response = await answer.Task.WaitAsync(token).ConfigureAwait(false);
            return (response, response is null ? form : null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            _logger.LogWarning("The handler of page {Page} did not answer {Method} {Path} within {Timeout}", page.Name, request.Method, path, _options.RequestHandlerTimeout);
            return (VizResponse.Status(StatusCodes.Status503ServiceUnavailable, "The page's handler did not answer in time."), null);
        }
        catch (OperationCanceledException)
        {
            return (null, null);
        }
#pragma warning disable CA1031 // As above.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogError(ex, "The handler of page {Page} threw on {Method} {Path}", page.Name, request.Method, path);
            return (VizResponse.Status(StatusCodes.Status500InternalServerError, "The page's handler failed."), null);
        }
    }

    // Kestrel has already decoded the path except for %2F, which it leaves encoded so it cannot split a segment.
    private static string DecodeEncodedSlashes(string path) =>
        path.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
}
