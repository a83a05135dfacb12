using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Logging;
using VizHtml.Diagnostics;
using VizHtml.Events;

namespace VizHtml.Http;

/// <summary>Hands an accepted socket to the session layer; completes when the connection has ended.</summary>
internal delegate Task SocketHandoff(WebSocket socket, string address, bool speaksVersion2, ClaimsPrincipal? user, CancellationToken aborted, string? userAgent);

/// <summary>What the HTTP side needs from the server, fixed at start.</summary>
internal sealed record HttpSettings(
    string Mount,
    long MaxFormBytes,
    TimeSpan FormUploadTimeout,
    string? FormSubmittedHtml,
    TimeSpan RequestHandlerTimeout,
    TimeProvider TimeProvider,
    Func<HttpExchange, string, Uri> PageUrl,
    int SocketSendBufferBytes = 0,
    bool ServeJQuery = true);

/// <summary>
/// Everything VizHtml answers over HTTP, host-neutral: the socket endpoint (admission, then the hand-off to the sessions),
/// the browser script and the built-in jQuery, the page index, pages, their resources, form posts (to a page or to <c>&lt;mount&gt;_form/</c>) and
/// custom request handlers. A host turns its requests into <see cref="HttpExchange"/>s and calls <see cref="HandleAsync"/>.
/// </summary>
internal sealed class HttpEndpoint
{
    private const string ScriptName = "vizhtml.js";
    private const string DeclarationsName = "vizhtml.d.ts";
    private const string ContractName = "contract.d.ts";
    private const string JQueryName = "jquery.js";
    private static readonly byte[] DefaultConfirmation = Encoding.UTF8.GetBytes("""
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>Form received</title></head>
        <body><p>Thank you: the form was received.</p><p><a href="javascript:history.back()">Back</a></p></body></html>
        """);

    private readonly PageRegistry _pages;
    private readonly AccessPolicy _policy;
    private readonly ConnectionLimits _limits;
    private readonly FormBudget _formBudget;
    private readonly FormSpoolFolder _formSpool;
    private readonly Dispatcher _dispatcher;
    private readonly EventRouter _router;
    private readonly HttpSettings _settings;
    private readonly SocketHandoff _runSocket;
    private readonly Func<bool> _accepting;
    private readonly ILogger _logger;
    private readonly VizHtmlMetrics? _metrics;
    private readonly string _socketPath;
    private readonly string _formPath;
    private readonly string _statusPath;
    private IStatusRoute? _status;

    public HttpEndpoint(PageRegistry pages, AccessPolicy policy, ConnectionLimits limits, FormBudget formBudget, FormSpoolFolder formSpool, Dispatcher dispatcher, EventRouter router,
        HttpSettings settings, SocketHandoff runSocket, Func<bool> accepting, ILogger logger, VizHtmlMetrics? metrics = null)
    {
        _metrics = metrics;
        _pages = pages;
        _policy = policy;
        _limits = limits;
        _formBudget = formBudget;
        _formSpool = formSpool;
        _dispatcher = dispatcher;
        _router = router;
        _settings = settings;
        _runSocket = runSocket;
        _accepting = accepting;
        _logger = logger;
        _socketPath = settings.Mount + "/socket";
        _formPath = settings.Mount + "_form";
        _statusPath = settings.Mount + "/_status";
    }

    /// <summary>The live status page, routed at <c>&lt;mount&gt;/_status</c>; without one that path is an unknown page.</summary>
    public IStatusRoute? Status
    {
        get => _status;
        init => _status = value;
    }

    /// <summary>The program's contract declarations, served at <c>&lt;mount&gt;/contract.d.ts</c> when it returns one.</summary>
    public Func<ClientScript?>? Contract { get; init; }

    /// <summary>Whether a path is the status page or its socket.</summary>
    private bool IsStatusPath(string path) =>
        _status is not null && path.StartsWith(_statusPath, StringComparison.Ordinal) && (path.Length == _statusPath.Length || path[_statusPath.Length] == '/');

    public async Task HandleAsync(HttpExchange exchange)
    {
        var path = exchange.Path.Length == 0 ? "/" : exchange.Path;
        if (!await AdmitAsync(exchange, path).ConfigureAwait(false))
        {
            return;
        }

        var mount = _settings.Mount;
        if (IsStatusPath(path))
        {
            await _status!.HandleAsync(exchange, path[_statusPath.Length..], exchange.PathBase + mount).ConfigureAwait(false);
            return;
        }

        if (path.Equals(_socketPath, StringComparison.Ordinal))
        {
            await AcceptSocketAsync(exchange).ConfigureAwait(false);
            return;
        }

        if (path == _formPath || path == _formPath + "/")
        {
            await HandleFormPathAsync(exchange).ConfigureAwait(false);
            return;
        }

        if (!path.StartsWith(mount, StringComparison.Ordinal) || (path.Length > mount.Length && path[mount.Length] != '/'))
        {
            // Only the embedded host, which owns the whole port, routes these here; MapVizHtml leaves them to the app.
            if (exchange.IsGetOrHead && path == "/")
            {
                exchange.SetHeader("Location", exchange.PathBase + mount + "/" + exchange.QueryString);
                await exchange.RespondAsync(302, null, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
                return;
            }

            if (exchange.IsGetOrHead && path == "/favicon.ico")
            {
                // Browsers ask for it beside every page; "no content" keeps their consoles free of a 404.
                await exchange.RespondAsync(204, null, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
                return;
            }

            await WriteTextAsync(exchange, 404, $"Not found. VizHtml serves pages under {exchange.PathBase}{mount}/.").ConfigureAwait(false);
            return;
        }

        var below = path.Length <= mount.Length + 1 ? string.Empty : path[(mount.Length + 1)..];
        if (_pages.TryMatch(below, out var page, out var rest))
        {
            await ServePageAsync(exchange, page, rest).ConfigureAwait(false);
            return;
        }

        if (!exchange.IsGetOrHead)
        {
            await MethodNotAllowedAsync(exchange).ConfigureAwait(false);
        }
        else if (IsNamed(below, ScriptName))
        {
            // The script resolves from any URL under the mount, registered page or not.
            await ServeScriptAsync(exchange, ClientScript.ForMount(exchange.PathBase + mount)).ConfigureAwait(false);
        }
        else if (_settings.ServeJQuery && IsNamed(below, JQueryName))
        {
            // Pages written for the original load jQuery beside vizhtml.js, by relative URL, and it resolves the same way.
            await ServeScriptAsync(exchange, ClientScript.JQuery).ConfigureAwait(false);
        }
        else if (below == DeclarationsName)
        {
            await ServeScriptAsync(exchange, ClientScript.Declarations).ConfigureAwait(false);
        }
        else if (below == ContractName)
        {
            if (Contract?.Invoke() is { } contract)
            {
                await ServeScriptAsync(exchange, contract).ConfigureAwait(false);
            }
            else
            {
                await WriteTextAsync(exchange, 404, "This program declares no contract (VizHtmlServer.UseContract).").ConfigureAwait(false);
            }
        }
        else if (below.Length == 0)
        {
            exchange.SetHeader("Cache-Control", "no-cache");
            await WriteAsync(exchange, 200, "text/html; charset=utf-8", PageIndex.Render(_pages.All, name => _settings.PageUrl(exchange, name))).ConfigureAwait(false);
        }
        else
        {
            await WriteTextAsync(exchange, 404, "No page is registered at this address.").ConfigureAwait(false);
        }
    }

    /// <summary>The access policy, before anything else answers: Host, then Origin where a page acts, then the access key.</summary>
    private async Task<bool> AdmitAsync(HttpExchange exchange, string path)
    {
        if (!_policy.IsHostAllowed(exchange.Host))
        {
            _logger.LogWarning("Refused a request from {Address} (not an allowed host name; DNS rebinding?); to allow it, add \"{Host}\" to VizHtmlOptions.AllowedHosts", FormatAddress(exchange.RemoteAddress), AccessPolicy.HostName(exchange.Host));
            _metrics?.Refused(RefusalRule.Host);
            _status?.Refused(RefusalRule.Host, FormatAddress(exchange.RemoteAddress));
            await WriteTextAsync(exchange, 400, "This host name is not allowed; use the server's address or add the name to VizHtmlOptions.AllowedHosts.").ConfigureAwait(false);
            return false;
        }

        var isStatus = IsStatusPath(path);
        if (isStatus && !_status!.Admits(exchange))
        {
            // Off, or loopback only and this request came from elsewhere: as if there were no such page.
            await WriteTextAsync(exchange, 404, "No page is registered at this address.").ConfigureAwait(false);
            return false;
        }

        // A foreign page may link to this server, but not open its socket or post to its pages (cross-site WebSocket hijacking, CSRF).
        var acts = path == _socketPath || (exchange.IsPost && path != _formPath && path != _formPath + "/") || (isStatus && exchange.IsWebSocketRequest);
        if (acts && !_policy.IsOriginAllowed(exchange.Header("Origin"), exchange.Scheme, exchange.Host))
        {
            _logger.LogWarning("Refused {Method} {Path} from {Address} (cross-site); to allow its page's origin, add \"{Origin}\" to VizHtmlOptions.AllowedOrigins", exchange.Method, path, FormatAddress(exchange.RemoteAddress), exchange.Header("Origin"));
            _metrics?.Refused(RefusalRule.Origin);
            _status?.Refused(RefusalRule.Origin, FormatAddress(exchange.RemoteAddress));
            await WriteTextAsync(exchange, 403, "This origin is not allowed; add it to VizHtmlOptions.AllowedOrigins.").ConfigureAwait(false);
            return false;
        }

        exchange.Query.TryGetValue(AccessPolicy.KeyQueryName, out var keyInQuery);
        if (!_policy.HasKey(keyInQuery, exchange.Cookie(AccessPolicy.KeyCookieName), exchange.Header(AccessPolicy.KeyHeaderName), out var fromQuery))
        {
            _logger.LogWarning("Refused {Method} {Path} from {Address}: no valid access key", exchange.Method, path, FormatAddress(exchange.RemoteAddress));
            _metrics?.Refused(RefusalRule.Key);
            _status?.Refused(RefusalRule.Key, FormatAddress(exchange.RemoteAddress));
            if (isStatus && exchange.IsGetOrHead && !exchange.IsWebSocketRequest)
            {
                await _status!.AskForKeyAsync(exchange).ConfigureAwait(false);
                return false;
            }

            await WriteTextAsync(exchange, 401, "This VizHtml server needs its access key: open the page from the link or QR code the program shows.").ConfigureAwait(false);
            return false;
        }

        if (fromQuery && path != _socketPath)
        {
            // The browser presents the key on its next requests (resources, the socket, form posts) by itself.
            exchange.SetCookie(AccessPolicy.KeyCookieName, _policy.Key);
        }

        return true;
    }

    private async Task AcceptSocketAsync(HttpExchange exchange)
    {
        if (!exchange.IsWebSocketRequest)
        {
            await WriteTextAsync(exchange, 400, "This is the VizHtml WebSocket endpoint: connect with a WebSocket client.").ConfigureAwait(false);
            return;
        }

        if (!_accepting())
        {
            _metrics?.Refused(RefusalRule.NotAccepting);
            _status?.Refused(RefusalRule.NotAccepting, FormatAddress(exchange.RemoteAddress));
            await exchange.RespondAsync(503, null, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
            return;
        }

        var address = FormatAddress(exchange.RemoteAddress);
        if (!_limits.TryAcquire(address, out var refusal))
        {
            _logger.LogWarning("Refused a socket from {Address}: {Problem}", address, refusal.Message);
            _metrics?.Refused(refusal.StatusCode == 429 ? RefusalRule.MaxConnectionsPerAddress : RefusalRule.MaxConnections);
            _status?.Refused(refusal.StatusCode == 429 ? RefusalRule.MaxConnectionsPerAddress : RefusalRule.MaxConnections, address);
            await WriteTextAsync(exchange, refusal.StatusCode, refusal.Message).ConfigureAwait(false);
            return;
        }

        try
        {
            // A version 2 client says so in the URL and then sends $hello: which session it joins is known only then.
            var speaksV2 = exchange.Query.TryGetValue("v", out var v) && v.Count == 1 && v[0] == "2";
            var socket = await exchange.AcceptWebSocketAsync(_settings.SocketSendBufferBytes).ConfigureAwait(false);
            await _runSocket(socket, address, speaksV2, exchange.User, exchange.Aborted, exchange.Header("User-Agent")).ConfigureAwait(false);
        }
        finally
        {
            _limits.Release(address);
        }
    }

    private async Task ServePageAsync(HttpExchange exchange, Page page, string rest)
    {
        var relative = rest.TrimStart('/');
        var pageUrl = $"{exchange.PathBase}{_settings.Mount}/{page.Name}/";

        // A form anywhere on the page (its own URL, or an HTML file below a folder page) goes back where it came from.
        var back = $"{pageUrl}{(relative.Length == 0 ? string.Empty : Uri.EscapeDataString(relative).Replace("%2F", "/", StringComparison.Ordinal))}{exchange.QueryString}";
        if (page.Handler is { } handler)
        {
            var (response, formSubmitted) = await RunRequestHandlerAsync(exchange, page, handler, relative).ConfigureAwait(false);
            if (response is not null)
            {
                await WriteResponseAsync(exchange, response).ConfigureAwait(false);
                return;
            }

            if (exchange.Aborted.IsCancellationRequested)
            {
                return;
            }

            if (formSubmitted)
            {
                // Declined: the form-submit handlers have the form already; the browser gets what any page's form gets.
                await AnswerFormAsync(exchange, redirectTo: back).ConfigureAwait(false);
                return;
            }
        }

        if (exchange.IsPost && exchange.HasFormContentType)
        {
            await SubmitFormAsync(exchange, page.Name, redirectTo: back).ConfigureAwait(false);
            return;
        }

        if (!exchange.IsGetOrHead)
        {
            await MethodNotAllowedAsync(exchange).ConfigureAwait(false);
            return;
        }

        if (rest.Length == 0)
        {
            // Pages behave like directories so that relative URLs (images, vizhtml.js) resolve below them.
            exchange.SetHeader("Location", pageUrl + exchange.QueryString);
            await exchange.RespondAsync(302, null, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
            return;
        }

        if (relative.Length == 0 && page.HasHtml)
        {
            var html = await page.ReadHtmlAsync(exchange.Aborted).ConfigureAwait(false);
            exchange.SetHeader("Cache-Control", "no-cache");
            await WriteAsync(exchange, 200, "text/html; charset=utf-8", html).ConfigureAwait(false);
            return;
        }

        var file = page.ResourceDirectory is null ? null : Resources.Resolve(page.ResourceDirectory, relative);
        if (file is not null)
        {
            await Resources.ServeFileAsync(exchange, file, contentType: null).ConfigureAwait(false);
        }
        else if (IsNamed(relative, ScriptName))
        {
            // HTML in a subfolder of a folder page finds the script too, unless the page ships its own.
            await ServeScriptAsync(exchange, ClientScript.ForMount(exchange.PathBase + _settings.Mount)).ConfigureAwait(false);
        }
        else if (_settings.ServeJQuery && IsNamed(relative, JQueryName))
        {
            // As vizhtml.js: a page that ships its own jquery.js (another version, a plugin bundle) has it served above.
            await ServeScriptAsync(exchange, ClientScript.JQuery).ConfigureAwait(false);
        }
        else
        {
            await WriteTextAsync(exchange, 404, "Not found.").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A post to <c>&lt;mount&gt;_form/</c>: from a registered page (known by its Referer) it goes back to that page;
    /// from anywhere else (a local file) the browser gets a confirmation page.
    /// </summary>
    private async Task HandleFormPathAsync(HttpExchange exchange)
    {
        if (!exchange.IsPost || !exchange.HasFormContentType)
        {
            exchange.SetHeader("Allow", "POST");
            await WriteTextAsync(exchange, 405, "Post an HTML form here (application/x-www-form-urlencoded or multipart/form-data).").ConfigureAwait(false);
            return;
        }

        string? pageName = null;
        string? redirectTo = null;
        var pagesAt = exchange.PathBase + _settings.Mount + "/";
        if (Uri.TryCreate(exchange.Header("Referer"), UriKind.Absolute, out var referer)
            && string.Equals(referer.Authority, exchange.Host, StringComparison.OrdinalIgnoreCase)
            && referer.AbsolutePath.StartsWith(pagesAt, StringComparison.Ordinal)
            && _pages.TryMatch(referer.AbsolutePath[pagesAt.Length..].TrimEnd('/'), out var page, out _))
        {
            pageName = page.Name;
            redirectTo = referer.PathAndQuery;
        }

        await SubmitFormAsync(exchange, pageName, redirectTo).ConfigureAwait(false);
    }

    private async Task SubmitFormAsync(HttpExchange exchange, string? pageName, string? redirectTo)
    {
        var (received, refusal) = await ReceiveFormAsync(exchange).ConfigureAwait(false);
        if (received is null)
        {
            if (refusal is not null)
            {
                await WriteResponseAsync(exchange, refusal).ConfigureAwait(false);
            }

            return;
        }

        var form = new VizFormSubmitEvent(pageName, received.Address, received.Content.Fields, received.Content.Files);

        // The dispatcher runs the handlers elsewhere: their span's parent is the request that brought the form.
        var caller = CallerOf(exchange);
        _dispatcher.Post(async () =>
        {
            // The form's temporary file and its share of the budget are held until every handler has finished, async ones included.
            try
            {
                await _router.DeliverAsync(form, caller).ConfigureAwait(false);
            }
            finally
            {
                received.Dispose();
            }
        });
        await AnswerFormAsync(exchange, redirectTo).ConfigureAwait(false);
    }

    /// <summary>What the browser gets for a submitted form: the configured confirmation, back to its page, or the default confirmation.</summary>
    private async Task AnswerFormAsync(HttpExchange exchange, string? redirectTo)
    {
        if (_settings.FormSubmittedHtml is { } confirmation)
        {
            await WriteAsync(exchange, 200, "text/html; charset=utf-8", confirmation).ConfigureAwait(false);
        }
        else if (redirectTo is not null)
        {
            // Post/redirect/get: the browser lands back on the page, and reloading it does not post again.
            exchange.SetHeader("Location", redirectTo);
            await exchange.RespondAsync(303, null, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
        }
        else
        {
            await exchange.RespondAsync(200, "text/html; charset=utf-8", DefaultConfirmation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs a page's custom handler on the dispatcher and, for a form post, the form-submit handlers right after it in the
    /// same turn (as the original raises the form-submit event for a post to a handler page too). Returns the handler's
    /// answer, or none and whether the form went to the form-submit handlers (so a declined post is answered as a submit).
    /// </summary>
    private async Task<(VizResponse? Response, bool FormSubmitted)> RunRequestHandlerAsync(HttpExchange exchange, Page page, Func<VizRequest, ValueTask<VizResponse?>> handler, string path)
    {
        var address = FormatAddress(exchange.RemoteAddress);
        ReceivedForm? received = null;
        if (exchange.IsPost && exchange.HasFormContentType)
        {
            (received, var refusal) = await ReceiveFormAsync(exchange).ConfigureAwait(false);
            if (received is null)
            {
                return (refusal, false);
            }
        }

        // The handler's time starts once the form is in: a large upload does not eat into it.
        var time = _settings.TimeProvider;
        var started = _metrics is { RequestHandlerDurationEnabled: true } ? time.GetTimestamp() : 0;

        // The dispatcher runs the handler elsewhere: its span's parent is this request's activity (the host's), if any.
        var caller = CallerOf(exchange);
        using var timeout = time.CreateCancellationTokenSource(_settings.RequestHandlerTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, exchange.Aborted);
        var token = linked.Token;
        var form = received is null ? null : new VizFormSubmitEvent(page.Name, address, received.Content.Fields, received.Content.Files);
        var request = new VizRequest(exchange.Method, page.Name, DecodeEncodedSlashes(path), exchange.QueryString.StartsWith('?') ? exchange.QueryString[1..] : exchange.QueryString, exchange.Query, exchange.Headers, form, address, token);
        var answer = new TaskCompletionSource<VizResponse?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _dispatcher.Post(async () =>
        {
            // The form's temporary file and its share of the budget are held until the page's handler and then every
            // form-submit handler have finished, async ones included; a request skipped unrun lets them go at once.
            try
            {
                // The browser may have been answered 503 already: a request whose turn comes too late is skipped, form and all.
                if (token.IsCancellationRequested)
                {
                    answer.TrySetCanceled(token);
                    return;
                }

                var scope = HandlerScope.Begin(VizHtmlActivities.Request, ActivityKind.Internal, caller, null, time, timedAs: null);
                scope.Activity?.SetTag("vizhtml.page", page.Name).SetTag("http.request.method", request.Method);
                var failed = false;
                try
                {
                    answer.TrySetResult(await handler(request).ConfigureAwait(false));
                }
#pragma warning disable CA1031 // User code boundary: a failing handler answers 500 and the server carries on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failed = true;
                    answer.TrySetException(ex);
                }
                finally
                {
                    scope.End(failed);
                }

                // After the answer is set, so the browser's response does not wait for the form-submit handlers.
                if (form is not null)
                {
                    await _router.DeliverAsync(form, caller).ConfigureAwait(false);
                }
            }
            finally
            {
                received?.Dispose();
            }
        });

        var outcome = RequestOutcome.Aborted;
        try
        {
            var response = await answer.Task.WaitAsync(token).ConfigureAwait(false);
            outcome = response is null ? RequestOutcome.Declined : RequestOutcome.Answered;
            return (response, form is not null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            outcome = RequestOutcome.Timeout;
            _logger.LogWarning("The handler of page {Page} did not answer {Method} {Path} within {Timeout}", page.Name, request.Method, path, _settings.RequestHandlerTimeout);
            return (VizResponse.Status(503, "The page's handler did not answer in time."), false);
        }
        catch (OperationCanceledException)
        {
            return (null, false);
        }
#pragma warning disable CA1031 // As above.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            outcome = RequestOutcome.Error;
            _logger.LogError(ex, "The handler of page {Page} threw on {Method} {Path}", page.Name, request.Method, path);
            return (VizResponse.Status(500, "The page's handler failed."), false);
        }
        finally
        {
            if (started != 0)
            {
                _metrics!.RequestHandled(outcome, time.GetElapsedTime(started));
            }
        }
    }

    /// <summary>
    /// Reads a form post within the limits: <see cref="HttpSettings.MaxFormBytes"/> and the form budget before its body is
    /// read (a refused form costs nothing but its headers), <see cref="HttpSettings.FormUploadTimeout"/> while it arrives.
    /// Returns the form, or the answer for a refused one; neither when the client went away.
    /// </summary>
    private async Task<(ReceivedForm? Form, VizResponse? Refusal)> ReceiveFormAsync(HttpExchange exchange)
    {
        var maxBytes = _settings.MaxFormBytes;
        var address = FormatAddress(exchange.RemoteAddress);
        if (exchange.ContentLength > maxBytes)
        {
            _logger.LogWarning("Refused a form of {Bytes} bytes from {Address}: over the limit of {Limit}", exchange.ContentLength, address, maxBytes);
            _metrics?.Refused(RefusalRule.MaxFormBytes);
            _status?.Refused(RefusalRule.MaxFormBytes, address);
            // Its body is not read: the connection cannot carry another request, and the client must not try one on it.
            return (null, VizResponse.Status(413, $"The form is larger than the limit of {maxBytes} bytes.").WithHeader("Connection", "close"));
        }

        // A chunked body does not say how large it is: it may be as large as the limit.
        var share = Math.Max(exchange.ContentLength ?? maxBytes, FormBudget.MinimumShare);
        if (!_formBudget.TryAcquire(address, share, out var refusal))
        {
            _logger.LogWarning("Refused a form of {Bytes} bytes from {Address}: {Problem}", share, address, refusal.Message);
            _metrics?.Refused(RefusalRule.FormBudget);
            _status?.Refused(RefusalRule.FormBudget, address);
            return (null, VizResponse.Status(refusal.StatusCode, refusal.Message)
                .WithHeader("Retry-After", FormBudget.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture))
                .WithHeader("Connection", "close"));
        }

        var spool = _formSpool.CreateSpool();
        var received = false;
        using var deadline = _settings.TimeProvider.CreateCancellationTokenSource(_settings.FormUploadTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, exchange.Aborted);
        try
        {
            var content = await exchange.ReadFormAsync(maxBytes, spool, linked.Token).ConfigureAwait(false);
            received = true;
            return (new ReceivedForm(content, spool, _formBudget, address, share), null);
        }
        catch (FormRejectedException ex)
        {
            _logger.LogWarning("Refused a form from {Address}: {Problem}", address, ex.Message);
            _metrics?.Refused(RefusalRule.FormRejected);
            _status?.Refused(RefusalRule.FormRejected, address);
            // Refused part-way through its body: the rest is not read, so this connection ends with the answer.
            return (null, exchange.Aborted.IsCancellationRequested ? null : VizResponse.Status(ex.StatusCode, ex.Message).WithHeader("Connection", "close"));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !exchange.Aborted.IsCancellationRequested)
        {
            _logger.LogWarning("Refused a form from {Address}: it did not arrive within {Timeout}", address, _settings.FormUploadTimeout);
            _metrics?.Refused(RefusalRule.FormUploadTimeout);
            _status?.Refused(RefusalRule.FormUploadTimeout, address);

            // The rest of the body is not read: the connection cannot carry another request.
            return (null, VizResponse.Status(408, $"The form did not arrive within {_settings.FormUploadTimeout.TotalSeconds:0} seconds.").WithHeader("Connection", "close"));
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && exchange.Aborted.IsCancellationRequested)
        {
            _logger.LogDebug("A form from {Address} was abandoned mid-upload", address);
            return (null, null);
        }
        finally
        {
            if (!received)
            {
                spool.Dispose();
                _formBudget.Release(address, share);
            }
        }
    }

    /// <summary>A form that was read, and what it holds until its handlers have finished: a share of the form budget and its temporary file.</summary>
    private sealed class ReceivedForm(FormContent content, FormSpool spool, FormBudget budget, string address, long share) : IDisposable
    {
        private int _released;

        public FormContent Content => content;

        public string Address => address;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                spool.Dispose();
                budget.Release(address, share);
            }
        }
    }

    // The server has decoded the path except for %2F, which it leaves encoded so it cannot split a segment.
    /// <summary>
    /// The span a request's handlers continue: the host's own request activity (ASP.NET Core's, which continues the
    /// browser's or a proxy's <c>traceparent</c>), else the W3C <c>traceparent</c>/<c>tracestate</c> headers themselves
    /// (the standalone host, or ASP.NET Core with nobody listening to its activity), else none.
    /// </summary>
    private static ActivityContext CallerOf(HttpExchange exchange)
    {
        if (Activity.Current is { } current)
        {
            return current.Context;
        }

        if (!VizHtmlActivities.Source.HasListeners() || !exchange.Headers.TryGetValue("traceparent", out var traceParent))
        {
            return default;
        }

        exchange.Headers.TryGetValue("tracestate", out var traceState);
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent) ? parent : default;
    }

    private static string DecodeEncodedSlashes(string path) => path.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    private static async Task WriteResponseAsync(HttpExchange exchange, VizResponse response)
    {
        foreach (var (name, value) in response.Headers)
        {
            exchange.SetHeader(name, value);
        }

        if (response.FilePath is { } path)
        {
            await Resources.ServeFileAsync(exchange, new FileInfo(path), response.ContentType).ConfigureAwait(false);
            return;
        }

        await exchange.RespondAsync(response.StatusCode, response.Body is null ? null : response.ContentType, response.Body).ConfigureAwait(false);
    }

    /// <summary>Whether <paramref name="path"/> (below the mount or a page) names <paramref name="fileName"/>, in any folder.</summary>
    private static bool IsNamed(string path, string fileName) =>
        path == fileName || path.EndsWith("/" + fileName, StringComparison.Ordinal);

    private static async Task ServeScriptAsync(HttpExchange exchange, ClientScript script)
    {
        exchange.SetHeader("ETag", script.ETag);

        // Revalidate every time: a library upgrade must reach open tablets on their next reload.
        exchange.SetHeader("Cache-Control", "no-cache");
        if (exchange.Header("If-None-Match") is { } ifNoneMatch && ifNoneMatch.Split(',').Any(t => t.Trim() == script.ETag || t.Trim() == "*"))
        {
            await exchange.RespondAsync(304, null, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
            return;
        }

        await exchange.RespondAsync(200, script.ContentType, script.Content).ConfigureAwait(false);
    }

    private static Task MethodNotAllowedAsync(HttpExchange exchange)
    {
        exchange.SetHeader("Allow", "GET, HEAD");
        return WriteTextAsync(exchange, 405, "Method not allowed.");
    }

    private static Task WriteTextAsync(HttpExchange exchange, int status, string text) =>
        WriteAsync(exchange, status, "text/plain; charset=utf-8", text);

    private static Task WriteAsync(HttpExchange exchange, int status, string contentType, string body) =>
        exchange.RespondAsync(status, contentType, Encoding.UTF8.GetBytes(body));

    /// <summary>An address as text: IPv4 for IPv4-mapped IPv6, "unknown" when the host has none.</summary>
    public static string FormatAddress(IPAddress? address) => address switch
    {
        null => "unknown",
        { IsIPv4MappedToIPv6: true } => address.MapToIPv4().ToString(),
        _ => address.ToString(),
    };
}
