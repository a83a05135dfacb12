using System.Net;
using System.Text.Json;

namespace VizHtml.Status;

/// <summary>
/// The status page itself: one HTML file with its style and a few lines of script, no framework and nothing from
/// elsewhere. It loads <c>vizhtml.js</c> from the server and listens for the <c>status</c> event on the page's own socket;
/// everything it shows is written with <c>textContent</c> (user agents and close reasons come from browsers).
/// </summary>
internal static class StatusPageHtml
{
    private const string MountMarker = "__VIZHTML_MOUNT__";
    private const string MountAttributeMarker = "__VIZHTML_MOUNT_ATTRIBUTE__";

    /// <summary>The answer to a request without the access key: a form that asks for it and opens the page with it.</summary>
    public const string AskForKey = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>VizHtml status: access key</title>
        <style>body { font: 15px system-ui, sans-serif; margin: 2em; } input { font: inherit; padding: .3em; }</style>
        </head><body><h1>VizHtml status</h1>
        <p>This server needs its access key (the <code>key</code> in the link or QR code the program shows).</p>
        <form method="get" id="ask-key"><label>Access key <input type="password" name="key" autocomplete="off" autofocus required></label>
        <button type="submit">Open</button></form></body></html>
        """;

    /// <summary>The page for VizHtml mounted at <paramref name="mount"/> (path base included, e.g. <c>/vizhtml</c>).</summary>
    public static string Render(string mount) =>
        Template.Replace(MountAttributeMarker, WebUtility.HtmlEncode(mount), StringComparison.Ordinal)
            .Replace(MountMarker, JsonEncodedText.Encode(mount).ToString(), StringComparison.Ordinal);

    private const string Template = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>VizHtml status</title>
        <style>
          body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
          h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
          #state { display: inline-block; padding: .1em .6em; border-radius: 1em; background: #bbb; color: #fff; font-size: .85em; }
          #state.live { background: #2a8a3e; }
          table { border-collapse: collapse; background: #fff; }
          th, td { text-align: left; padding: .25em .7em; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
          th { font-weight: 600; background: #f0f0f0; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
          td.ua { max-width: 22em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
          .empty td { color: #888; font-style: italic; }
          #summary span { margin-right: 1.5em; } #summary b { font-variant-numeric: tabular-nums; }
          svg { background: #fff; border: 1px solid #e4e4e4; } .in { stroke: #1f6fd1; } .out { stroke: #d1621f; }
          .legend-in { color: #1f6fd1; } .legend-out { color: #d1621f; }
          dl { display: grid; grid-template-columns: max-content auto; gap: .15em 1em; margin: 0; }
          dt { color: #555; } dd { margin: 0; font-variant-numeric: tabular-nums; }
          .columns { display: flex; flex-wrap: wrap; gap: 0 2.5em; }
        </style></head>
        <body>
        <h1>VizHtml status <span id="state">connecting</span></h1>
        <div id="summary"><span>Clients <b id="client-count">–</b></span><span>Away (may resume) <b id="away">–</b></span><span>Events/s in <b id="rate-in">–</b></span><span>Events/s out <b id="rate-out">–</b></span><span id="now"></span></div>
        <h2>Connected clients</h2>
        <table id="clients"><thead><tr><th>Id</th><th>Address</th><th>User agent</th><th class="n">Protocol</th><th>Connected since</th><th class="n">Queued</th><th class="n">Events in</th><th class="n">In/s</th><th class="n">Events out</th><th class="n">Out/s</th></tr></thead><tbody></tbody></table>
        <h2>Event rates <span class="legend-in">— events/s in</span> <span class="legend-out">— events/s out</span></h2>
        <svg id="rates" width="720" height="140" viewBox="0 0 720 140" role="img" aria-label="Event rates over the last five minutes"><path class="in" fill="none" stroke-width="1.5" d=""/><path class="out" fill="none" stroke-width="1.5" d=""/><text id="rates-max" x="4" y="12" font-size="10" fill="#888"></text></svg>
        <div class="columns">
        <div><h2>Last refusals</h2>
        <table id="refusals"><thead><tr><th>Time</th><th>Rule</th><th>Address</th></tr></thead><tbody></tbody></table></div>
        <div><h2>Last disconnects</h2>
        <table id="disconnects"><thead><tr><th>Time</th><th>Client</th><th>Address</th><th>Reason</th><th>Code</th><th>May resume</th></tr></thead><tbody></tbody></table></div>
        <div><h2>Server</h2><dl id="server"></dl></div>
        </div>
        <script src="__VIZHTML_MOUNT_ATTRIBUTE__/vizhtml.js"></script>
        <script>
        'use strict';
        (function () {
          const mount = "__VIZHTML_MOUNT__";
          const key = new URLSearchParams(location.search).get('key');
          const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + mount + '/_status/socket' + (key ? '?key=' + encodeURIComponent(key) : '');
          const $ = (id) => document.getElementById(id);
          const time = (iso) => new Date(iso).toLocaleTimeString();
          function cell(tr, text, cls) {
            const td = tr.insertCell();
            td.textContent = text === undefined || text === null ? '' : String(text);
            if (cls) td.className = cls;
            return td;
          }
          function fill(tableId, items, columns, emptyText, rowOf) {
            const body = $(tableId).tBodies[0];
            body.replaceChildren();
            for (const item of items) {
              const tr = body.insertRow();
              if (rowOf) rowOf(tr, item);
              for (const [value, cls] of columns(item)) cell(tr, value, cls);
            }
            if (!items.length) { const tr = body.insertRow(); tr.className = 'empty'; cell(tr, emptyText).colSpan = $(tableId).tHead.rows[0].cells.length; }
          }
          function chart(rates) {
            const svg = $('rates'), w = 720, h = 140, top = 16;
            const end = rates.length ? rates[rates.length - 1][0] : Date.now();
            // The window grows with the history it has, from 30 s to 5 minutes.
            const span = Math.min(300000, Math.max(30000, rates.length ? end - rates[0][0] : 0));
            let max = 1;
            for (const r of rates) max = Math.max(max, r[1], r[2]);
            // A gap (no status page was open) breaks the line instead of bridging it.
            const line = (i) => rates.map((r, n) => (n === 0 || r[0] - rates[n - 1][0] > 5000 ? 'M' : 'L') + (w - (end - r[0]) * w / span).toFixed(1) + ',' + (h - 2 - r[i] * (h - top - 2) / max).toFixed(1)).join(' ');
            svg.querySelector('.in').setAttribute('d', line(1));
            svg.querySelector('.out').setAttribute('d', line(2));
            $('rates-max').textContent = 'max ' + max + '/s over the last ' + Math.round(span / 1000) + ' s';
          }
          function render(s) {
            $('client-count').textContent = s.clientCount;
            $('away').textContent = s.away;
            const last = s.rates.length ? s.rates[s.rates.length - 1] : [0, 0, 0];
            $('rate-in').textContent = last[1];
            $('rate-out').textContent = last[2];
            $('now').textContent = 'at ' + time(s.now);
            fill('clients', s.clients, (c) => [[c.id, 'id'], [c.address, 'address'], [c.userAgent, 'ua'], [c.protocol, 'n protocol'], [time(c.connectedAt), 'since'],
              [c.queued, 'n queued'], [c.eventsIn, 'n events-in'], [c.inPerSecond, 'n in'], [c.eventsOut, 'n events-out'], [c.outPerSecond, 'n out']],
              'No client is connected.', (tr, c) => { tr.dataset.id = c.id; tr.title = c.userAgent || ''; });
            if (s.clientCount > s.clients.length) { const tr = $('clients').tBodies[0].insertRow(); tr.className = 'empty'; cell(tr, (s.clientCount - s.clients.length) + ' more not listed').colSpan = 10; }
            fill('refusals', s.refusals, (r) => [[time(r.at)], [r.rule, 'rule'], [r.address, 'address']], 'None.');
            fill('disconnects', s.disconnects, (d) => [[time(d.at)], [d.client], [d.address, 'address'], [d.reason, 'reason'], [d.code], [d.canResume ? 'yes' : 'no']], 'None.');
            const dl = $('server');
            dl.replaceChildren();
            for (const [name, value] of Object.entries(s.server)) {
              const dt = document.createElement('dt'), dd = document.createElement('dd');
              dt.textContent = name; dd.textContent = typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);
              dd.dataset.option = name;
              dl.append(dt, dd);
            }
            chart(s.rates);
          }
          const socket = new viz.WebSocket(url, { protocol: 1, autoReconnect: true });
          socket.onevent('status', (e) => render(e.data));
          socket.onevent('open', () => { $('state').textContent = 'live'; $('state').className = 'live'; });
          socket.onevent('close', () => { $('state').textContent = 'disconnected'; $('state').className = ''; });
        })();
        </script>
        </body></html>
        """;
}
