// vizhtml.js, the browser side of VizHtml: see docs/js-api.md and vizhtml.d.ts.
(function (root) {
  'use strict';

  const V = 2; // protocol version
  const MOUNT = '/vizhtml';
  const OPEN = 1; // WebSocket.OPEN
  const NORMAL = 1000;
  const SILENT = 4000; // we gave up on a silent server
  const HANDSHAKE_MS = 10000;
  const HEARTBEAT_MS = 15000;
  // Acknowledged after this many events, this many bytes of frames, or this long after the first unacknowledged one:
  // each $ack costs the server a wake-up, so a steady stream is acknowledged about once a second, and a stream of large
  // payloads sooner, which bounds what the server keeps for a resume.
  const ACK_EVERY = 128;
  const ACK_BYTES = 256 * 1024;
  const ACK_DELAY_MS = 1000;
  // Unnumbered events are acked this often: the server pings only silent peers.
  const READING_MS = 5000;

  const warn = (...args) => console.warn('vizhtml:', ...args);
  const cut = (text) => (text.length > 200 ? text.slice(0, 200) + '…' : text);
  const bad = (why, m, raw) => warn(`ignoring frame ${why}:`, cut(raw || JSON.stringify(m)));
  const isCount = (v) => Number.isSafeInteger(v) && v >= 0;
  const describe = (v) => (v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v) : typeof v);
  const later = (fn) => Promise.resolve().then(fn);
  const LOST = 'session_lost';
  const NOT_SUPPORTED = 'not_supported';

  function encode(name, data, seq, binary, req) {
    const parts = [];
    try {
      // Protocol 2: bytes anywhere in data become parts, {"$bin":i} in the JSON.
      const text = JSON.stringify({ event: name, data: data === undefined ? null : data, seq: seq || undefined, req }, binary && ((_, v) => (isBin(v) ? { $bin: parts.push(v) - 1 } : v)));
      return parts.length ? pack(text, parts) : text;
    } catch (err) {
      throw new TypeError(`viz.WebSocket.send: data for event "${name}" cannot be encoded as JSON (${err instanceof Error ? err.message : err})`);
    }
  }

  const control = (event, data) => JSON.stringify({ event, data });

  // Binary messages: [uint32 big-endian H][H bytes: JSON envelope with "bin":[lengths]][parts] (docs/protocol.md).
  const isBin = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v) || (typeof Blob === 'function' && v instanceof Blob);
  const size = (p) => (p instanceof ArrayBuffer || ArrayBuffer.isView(p) ? p.byteLength : p.size);

  // A Blob keeps send order and copies the bytes.
  function pack(text, parts) {
    const head = new TextEncoder().encode(text.slice(0, -1) + ',"bin":[' + parts.map(size) + ']}');
    const length = new DataView(new ArrayBuffer(4));
    length.setUint32(0, head.length);
    return new Blob([length, head, ...parts]);
  }

  function unpack(buf) {
    const h = new DataView(buf).getUint32(0);
    const m = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, h)));
    let at = 4 + h;
    const parts = m.bin.map((n) => new Uint8Array(buf, (at += n) - n, n));
    if (at !== buf.byteLength) throw 0;
    const fill = (v) => {
      if (v === null || typeof v !== 'object') return v;
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$bin' && !Array.isArray(v)) return parts[v.$bin];
      // Not v[k] = fill(v[k]): that would run an own "__proto__" member's setter.
      for (const k of keys) {
        const r = fill(v[k]);
        if (r !== v[k]) v[k] = r;
      }
      return v;
    };
    m.data = fill(m.data);
    return m;
  }

  function checkName(name, where, sending) {
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(`${where}: event name must be a non-empty string, got ${describe(name)}`);
    }
    if (sending && name[0] === '$') {
      throw new TypeError(`${where}: event names starting with "$" are reserved for the protocol, got ${JSON.stringify(name)}`);
    }
  }

  function checkHandler(name, fn, where) {
    checkName(name, where);
    if (typeof fn !== 'function') {
      throw new TypeError(`${where}: handler for "${name}" must be a function, got ${describe(fn)}`);
    }
  }

  class RequestError extends Error {
    constructor(code, message) {
      super(message || code);
      this.name = 'RequestError';
      this.code = code;
    }
  }

  function defaultUrl(protocol) {
    const loc = root.location;
    if (!loc || !loc.host) throw new TypeError('viz.WebSocket: no url given and the page has no location.host to derive one from');
    const query = protocol === 1 ? [] : ['v=' + V];
    const key = new URLSearchParams(loc.search || '').get('key');
    // RFC 3986, as in the server's page URLs (encodeURIComponent leaves !'()*).
    if (key !== null) query.push('key=' + encodeURIComponent(key).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()));
    return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${MOUNT}/socket${query.length ? '?' + query.join('&') : ''}`;
  }

  function withVersion(url) {
    const hashAt = url.indexOf('#');
    const base = hashAt < 0 ? url : url.slice(0, hashAt);
    const hash = hashAt < 0 ? '' : url.slice(hashAt);
    const q = base.indexOf('?');
    if (q < 0) return `${base}?v=${V}${hash}`;
    const params = new URLSearchParams(base.slice(q + 1));
    const v = params.getAll('v');
    if (v.length === 1 && v[0] === '' + V) return url;
    if (!v.length) return `${base}${q === base.length - 1 || base.endsWith('&') ? '' : '&'}v=${V}${hash}`;
    params.set('v', '' + V);
    return `${base.slice(0, q)}?${params}${hash}`;
  }

  function num(value, name, fallback, min) {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new RangeError(`viz.WebSocket: options.${name} must be a finite number >= ${min}`);
    }
    return value;
  }

  function readOptions(opts) {
    opts = opts || {};
    const rc = opts.reconnect || {};
    const oq = opts.offlineQueue || {};
    const initialDelayMs = num(rc.initialDelayMs, 'reconnect.initialDelayMs', 500, 0);
    const maxDelayMs = num(rc.maxDelayMs, 'reconnect.maxDelayMs', 5000, 0);
    const factor = num(rc.factor, 'reconnect.factor', 2, 1); // < 1 would be a hot loop
    if (opts.protocol !== undefined && opts.protocol !== 1 && opts.protocol !== 2) {
      throw new RangeError(`viz.WebSocket: options.protocol must be 1 or 2, got ${describe(opts.protocol)}`);
    }
    return {
      initialDelayMs,
      maxDelayMs: Math.max(maxDelayMs, initialDelayMs),
      factor,
      autoReconnect: opts.autoReconnect === true,
      protocol: opts.protocol === 1 ? 1 : 2,
      maxMessages: Math.floor(num(oq.maxMessages, 'offlineQueue.maxMessages', 1000, 1)),
      maxAgeMs: num(oq.maxAgeMs, 'offlineQueue.maxAgeMs', 120000, 0),
      keepAcrossRestart: oq.keepAcrossRestart === true,
    };
  }

  // Out of the page's reach (see `internals`).
  class Connection {
    constructor(owner, url, config) {
      this.owner = owner;
      this.url = url;
      this.config = config;
      this.v2 = config.protocol === 2;
      this.state = 'connecting';
      this.handlers = new Map(); // lists are replaced, not changed
      this.ws = null; // others are stale
      this.attempt = 0;
      this.timer = null;
      this.warnedOffline = false;
      this.wakeListening = false;
      this.epoch = 0; // tells if a handler called close() or reconnect()
      this.onWake = this.onWake.bind(this);
      this.token = null;
      this.clientId = null;
      this.recovered = null;
      this.serverEpoch = null;
      this.lastSeq = 0;
      this.unacked = 0;
      this.unackedBytes = 0;
      this.ackTimer = null;
      this.replayThrough = 0; // ack when the replay ends
      this.outSeq = 0; // never reset: the server dedupes by it
      this.outbox = []; // not acknowledged yet
      this.overflowDropped = 0;
      this.ended = false;
      this.welcomed = false;
      this.resuming = false;
      this.heartbeatMs = HEARTBEAT_MS;
      this.lastInboundAt = 0;
      this.ackedAt = 0;
      this.silenceTimer = null;
      this.requests = new Map(); // req -> pending
      this.lastReq = 0;
      this.answerers = new Map();
      this.canRequest = null; // until a welcome
      this.binary = null; // granted by the welcome; until then assumed
    }

    subscribe(name, fn) {
      const reg = { fn };
      const all = this.handlers;
      all.set(name, [...(all.get(name) || []), reg]);
      return () => {
        const list = (all.get(name) || []).filter((r) => r !== reg);
        if (list.length) all.set(name, list);
        else all.delete(name);
      };
    }

    dispatch(name, e) {
      for (const reg of this.handlers.get(name) || []) {
        try {
          reg.fn.call(this.owner, e);
        } catch (err) {
          console.error(`vizhtml: a handler for "${name}" threw:`, err);
        }
      }
    }

    deliver(event, data) {
      if (event === '$error') warn('server reported an error:', data && data.code, data && data.message);
      const e = { event, data };
      if (event !== '*') this.dispatch(event, e);
      this.dispatch('*', e);
    }

    openSocket() {
      const Native = root.WebSocket;
      if (typeof Native !== 'function') throw new Error('vizhtml: this browser does not support WebSocket');
      const ws = (this.ws = new Native(this.url));
      ws.binaryType = 'arraybuffer';
      // A replaced socket can still fire events: ignore them.
      ws.onopen = () => {
        if (this.ws !== ws) return;
        if (this.v2) return this.sendHello(ws);
        this.enterOpen();
        this.dispatch('open', { event: 'open' });
      };
      ws.onmessage = (ev) => {
        if (this.ws === ws) this.receive(ws, ev.data);
      };
      ws.onerror = () => {
        if (this.ws === ws && (this.state === 'open' || this.state === 'connecting')) this.dispatch('error', { event: 'error' });
      };
      ws.onclose = (ev) => {
        if (this.ws === ws) this.handleSocketClosed(ev);
      };
    }

    detach(ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      if (this.ws !== ws) return;
      this.ws = null; // the session stays
      this.welcomed = false;
      this.stopSilenceWatch();
      this.clearAckTimer();
      this.replayThrough = 0;
    }

    enterOpen() {
      this.clearTimer();
      this.setWakeListening(false);
      this.attempt = 0;
      this.warnedOffline = false;
      this.state = 'open';
    }

    handleSocketClosed(ev) {
      if (this.ws) this.detach(this.ws);
      if (this.state === 'reconnecting') return this.scheduleAttempt();
      this.state = 'closed';
      const epoch = this.epoch;
      this.dispatch('close', { event: 'close', code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
      if (this.config.autoReconnect && this.epoch === epoch) this.reconnect();
    }

    // A v2 frame may be a batch: an array of envelopes.
    receive(ws, raw) {
      const v2 = this.v2;
      if (v2) this.lastInboundAt = Date.now();
      const text = typeof raw === 'string';
      if (!text && !(v2 && raw instanceof ArrayBuffer)) return warn('ignoring non-text frame from server');
      // The frame's size for the acknowledgement's byte bound (UTF-16 units of a text frame: its bytes for ASCII).
      const size = text ? raw.length : raw.byteLength;
      let msg;
      try {
        msg = text ? JSON.parse(raw) : unpack(raw);
      } catch (_) {
        return bad(text ? 'that is not JSON' : 'that is not a binary envelope', 0, text ? raw : ' ');
      }
      if (!text) raw = null;
      const unacked = this.unacked;
      if (!v2 || !Array.isArray(msg)) this.handle(ws, msg, raw);
      // Stop if a handler closed the socket.
      else for (const one of msg) if (this.ws === ws) this.handle(ws, one, null);
      // At most one ack per frame.
      if (!v2 || this.ws !== ws) return;
      if (this.unacked > unacked) this.unackedBytes += size;
      if (this.unacked) this.noteHandled();
      else if (Date.now() - this.ackedAt > READING_MS) this.sendAck(true);
    }

    handle(ws, m, raw) {
      if (m === null || typeof m !== 'object' || Array.isArray(m)) return bad('that is not a JSON object', m, raw);
      const event = m.event;
      if (typeof event !== 'string' || event === '') return bad('without a string "event"', m, raw);
      const data = m.data === undefined ? null : m.data;
      if (!this.v2) return this.deliver(event, data);
      let seq = m.seq;
      if (seq === undefined) seq = 0;
      else if (!isCount(seq) || !seq) return bad('whose "seq" is not a positive integer', m, raw);
      if (event === '$welcome') return this.handleWelcome(ws, data);
      if (event === '$ack') return data && isCount(data.seq) && this.acknowledged(data.seq);
      if (event === '$heartbeat') return;
      if (event === '$error') return this.deliver(event, data);
      if (!this.welcomed) return warn(`ignoring "${event}" that arrived before $welcome`);
      if (!seq) return this.deliver(event, data); // latest/volatile: unnumbered
      if (seq <= this.lastSeq) return; // replayed twice
      this.lastSeq = seq;
      if (event === '$reply') this.settle(data);
      else if (isCount(m.req) && this.canRequest) this.answer(event, data, m.req);
      else this.deliver(event, data);
      if (this.ws === ws) this.unacked++;
    }

    sendHello(ws) {
      this.welcomed = false;
      this.resuming = this.token !== null;
      this.lastInboundAt = Date.now();
      this.startSilenceWatch();
      ws.send(control('$hello', { v: V, token: this.token, lastSeq: this.lastSeq, batch: true, requests: true, binary: true }));
    }

    handleWelcome(ws, data) {
      if (this.welcomed) return warn('ignoring a second $welcome on one connection');
      const d = data !== null && typeof data === 'object' ? data : {};
      this.welcomed = true;
      this.token = typeof d.token === 'string' ? d.token : null;
      this.clientId = typeof d.id === 'string' ? d.id : null;
      this.heartbeatMs = typeof d.heartbeatMs === 'number' && d.heartbeatMs > 0 ? d.heartbeatMs : HEARTBEAT_MS;
      this.binary = d.binary === true; // else binary gets 1003
      this.startSilenceWatch();
      const recovered = d.recovered === true;
      const sentSeq = isCount(d.sentSeq) ? d.sentSeq : 0;
      let resync = null;
      let dropped = 0;
      this.recovered = this.resuming ? recovered : null;
      this.unacked = this.unackedBytes = 0;
      this.clearAckTimer();
      if (recovered) {
        this.replayThrough = sentSeq > this.lastSeq ? sentSeq : 0;
      } else {
        this.lastSeq = sentSeq;
        if (this.resuming) resync = d.resumed === true ? 'gap' : 'restarted';
        // A new run: input queued for the old one is stale.
        if (resync === 'restarted' && d.epoch !== this.serverEpoch && !this.config.keepAcrossRestart) {
          dropped = this.outbox.splice(0).length;
          if (dropped) warn(`dropped the ${dropped} unacknowledged event(s): the server restarted`);
        }
      }
      this.serverEpoch = d.epoch;
      this.acknowledged(isCount(d.lastSeq) ? d.lastSeq : 0);
      this.trimOutbox(true);
      // Without a replay, answers to requests the server took are gone.
      const can = (this.canRequest = d.requests === true);
      for (const [req, p] of this.requests) {
        if (!can) this.lose(req, NOT_SUPPORTED);
        else if (!recovered && !this.outbox.some((q) => q.seq === p.seq)) this.lose(req, LOST);
      }
      this.enterOpen();
      // Queued events first: the server sees send() order.
      for (const queued of this.outbox) ws.send(queued.text);
      const epoch = this.epoch;
      this.dispatch('open', { event: 'open' });
      if (resync && this.epoch === epoch && this.ws === ws) this.dispatch('resync', { event: 'resync', reason: resync, dropped });
    }

    acknowledged(seq) {
      let n = 0;
      while (n < this.outbox.length && this.outbox[n].seq <= seq) n++;
      this.outbox.splice(0, n);
    }

    noteHandled() {
      if (this.unacked >= ACK_EVERY || this.unackedBytes >= ACK_BYTES || (this.replayThrough && this.lastSeq >= this.replayThrough)) {
        this.replayThrough = 0;
        this.sendAck();
      } else if (this.ackTimer === null) {
        this.ackTimer = setTimeout(() => this.sendAck(), ACK_DELAY_MS);
      }
    }

    sendAck(force) {
      this.clearAckTimer();
      const ws = this.ws;
      if (!(this.unacked || force) || !this.welcomed || !ws || ws.readyState !== OPEN) return;
      this.unacked = this.unackedBytes = 0;
      this.ackedAt = Date.now();
      ws.send(control('$ack', { seq: this.lastSeq }));
    }

    clearAckTimer() {
      clearTimeout(this.ackTimer);
      this.ackTimer = null;
    }

    // One 'overflow' event after the current task.
    trimOutbox(byAge) {
      const { maxMessages, maxAgeMs } = this.config;
      const box = this.outbox;
      let n = Math.max(0, box.length - maxMessages);
      if (byAge) {
        const now = Date.now();
        while (n < box.length && now - box[n].at > maxAgeMs) n++;
      }
      if (!n) return;
      box.splice(0, n);
      this.overflowDropped += n;
      if (this.overflowDropped === n) later(() => this.reportOverflow());
    }

    reportOverflow() {
      const dropped = this.overflowDropped;
      if (!dropped) return;
      this.overflowDropped = 0;
      warn(`dropped the ${dropped} oldest unsent event(s): offline queue full or too old`);
      this.dispatch('overflow', { event: 'overflow', dropped });
    }

    // Pages cannot see pings; the server writes every heartbeatMs.
    startSilenceWatch() {
      this.stopSilenceWatch();
      this.silenceTimer = setInterval(() => this.checkSilence(), Math.min(5000, this.silenceLimit() / 2));
    }

    stopSilenceWatch() {
      clearInterval(this.silenceTimer);
    }

    silenceLimit() {
      return this.welcomed ? this.heartbeatMs * 2.5 : HANDSHAKE_MS;
    }

    checkSilence() {
      const ws = this.ws;
      if (!ws) return this.stopSilenceWatch();
      const silentMs = Date.now() - this.lastInboundAt;
      if (silentMs < this.silenceLimit()) return;
      warn(`nothing from the server for ${Math.round(silentMs)} ms; treating the connection as lost`);
      this.detach(ws);
      try {
        ws.close(SILENT, 'server silent');
      } catch (_) {
        // closing already
      }
      this.handleSocketClosed({ code: SILENT, reason: 'server silent', wasClean: false });
    }

    reconnect() {
      if (this.state !== 'closed') return;
      this.epoch++;
      this.ended = false;
      this.state = 'reconnecting';
      this.attempt = 0;
      this.setWakeListening(true);
      this.scheduleAttempt();
    }

    scheduleAttempt() {
      this.clearTimer();
      const { initialDelayMs, maxDelayMs, factor } = this.config;
      const delayMs = Math.min(maxDelayMs, initialDelayMs * factor ** this.attempt++) * (0.5 + Math.random() * 0.5);
      this.timer = setTimeout(() => this.attemptNow(), delayMs);
    }

    attemptNow() {
      if (this.state !== 'reconnecting' || this.ws) return;
      try {
        this.openSocket();
      } catch (err) {
        warn('reconnect attempt could not start:', err);
        this.scheduleAttempt();
      }
    }

    clearTimer() {
      clearTimeout(this.timer);
    }

    // Timers sleep with tablets: retry at once.
    onWake(ev) {
      if (this.state !== 'reconnecting' || this.ws) return;
      if (ev.type === 'visibilitychange' && root.document.visibilityState !== 'visible') return;
      this.clearTimer();
      this.attemptNow();
    }

    // Only while reconnecting: idle sockets stay collectable.
    setWakeListening(on) {
      if (on === this.wakeListening) return;
      this.wakeListening = on;
      const how = on ? 'addEventListener' : 'removeEventListener';
      const doc = root.document;
      if (doc && typeof doc.addEventListener === 'function') doc[how]('visibilitychange', this.onWake);
      if (typeof root.addEventListener === 'function') root[how]('online', this.onWake);
    }

    send(name, data, options) {
      checkName(name, 'viz.WebSocket.send', true);
      if (options != null && typeof options !== 'object') {
        throw new TypeError(`viz.WebSocket.send: options must be an object, got ${describe(options)}`);
      }
      const ws = this.ws;
      const connected = this.state === 'open' && ws && ws.readyState === OPEN;
      if (!this.v2 || (options && options.volatile === true) || this.ended) {
        const text = encode(name, data, 0, this.v2 && this.binary !== false);
        if (connected) {
          ws.send(text);
          return true;
        }
        if (!this.warnedOffline) {
          this.warnedOffline = true;
          warn(`not connected, dropping "${name}" (further drops are not reported until the next connection)`);
        }
        return false;
      }
      this.push((seq) => encode(name, data, seq, this.binary !== false));
      return true;
    }

    // Numbers a reliable event, kept until acknowledged; make() may throw first.
    push(make) {
      const seq = this.outSeq + 1;
      const text = make(seq);
      const ws = this.ws;
      this.outSeq = seq;
      this.outbox.push({ seq, text, at: Date.now() });
      if (this.state === 'open' && ws && ws.readyState === OPEN) ws.send(text);
      else this.trimOutbox(false);
      return seq;
    }

    request(name, data, options) {
      checkName(name, 'viz.WebSocket.request', true);
      const ms = num((options || {}).timeoutMs, 'timeoutMs', 30000, 1);
      if (!this.v2 || this.canRequest === false) return Promise.reject(new RequestError(NOT_SUPPORTED));
      if (this.ended) return Promise.reject(new RequestError(LOST));
      const req = ++this.lastReq;
      const seq = this.push((n) => encode(name, data, n, this.binary !== false, req));
      return new Promise((resolve, reject) => {
        this.requests.set(req, { resolve, reject, seq, timer: setTimeout(() => this.lose(req, 'timeout', `no answer within ${ms} ms`), ms) });
      });
    }

    // An answer, or a failure, settles a request once.
    settle(d) {
      const p = d && this.requests.get(d.req);
      if (!p) return;
      this.requests.delete(d.req);
      clearTimeout(p.timer);
      const e = d.error;
      if (e) p.reject(new RequestError(String(e.code), e.message));
      else p.resolve(d.value === undefined ? null : d.value);
    }

    lose(req, code, message) {
      this.settle({ req, error: { code, message } });
    }

    answer(event, data, req) {
      const reg = this.answerers.get(event);
      const reply = (r) => this.ended || this.push((n) => encode('$reply', { req, ...r }, n, this.binary !== false));
      const fail = (code, err) => reply({ error: { code, message: err instanceof Error ? err.message : String(err) } });
      if (!reg) return fail('no_handler', `no handler for "${event}"`);
      new Promise((ok) => ok(reg.fn.call(this.owner, { event, data })))
        .then((value) => reply({ value }))
        .catch((err) => {
          const own = err instanceof RequestError;
          if (!own) warn(`request handler for "${event}" threw:`, err);
          fail(own ? err.code : 'handler_error', err);
        });
    }

    close() {
      const wasOpen = this.state === 'open';
      this.epoch++;
      this.clearTimer();
      this.setWakeListening(false);
      const ws = this.ws;
      if (ws) {
        this.detach(ws); // first: no second 'close'
        try {
          ws.close(NORMAL);
        } catch (_) {
          // closing already
        }
      }
      this.state = 'closed';
      if (this.v2) {
        this.ended = true;
        this.token = this.recovered = null;
        this.lastSeq = this.unacked = this.unackedBytes = this.overflowDropped = 0;
        this.outbox = [];
        for (const req of this.requests.keys()) this.lose(req, LOST);
      }
      if (wasOpen) this.dispatch('close', { event: 'close', code: NORMAL, reason: '', wasClean: true });
    }
  }

  const internals = new WeakMap();

  function conn(socket) {
    const c = internals.get(socket);
    if (!c) throw new TypeError('vizhtml: method called on an object that is not a viz.WebSocket');
    return c;
  }

  // The public API, named as in the original toolkit.
  class VizWebSocket {
    constructor(url, options) {
      if (url != null && typeof url !== 'string') {
        throw new TypeError(`viz.WebSocket: url must be a string, got ${describe(url)}`);
      }
      const config = readOptions(options);
      const target = !url ? defaultUrl(config.protocol) : config.protocol === 2 ? withVersion(url) : url;
      const c = new Connection(this, target, config);
      internals.set(this, c);
      c.openSocket();
    }

    get url() { return conn(this).url; }
    get state() { return conn(this).state; }
    get id() { return conn(this).clientId; }
    get recovered() { return conn(this).recovered; }

    onevent(name, fn) {
      checkHandler(name, fn, 'viz.WebSocket.onevent');
      return conn(this).subscribe(name, fn);
    }

    send(name, data, options) { return conn(this).send(name, data, options); }
    request(name, data, options) { return conn(this).request(name, data, options); }

    onrequest(name, fn) {
      checkHandler(name, fn, 'viz.WebSocket.onrequest');
      const all = conn(this).answerers;
      if (all.has(name)) throw new TypeError(`viz.WebSocket.onrequest: "${name}" has a handler`);
      const reg = { fn };
      all.set(name, reg);
      return () => all.get(name) === reg && all.delete(name);
    }
    reconnect() { conn(this).reconnect(); }
    isConnected() { return conn(this).state === 'open'; }
    close() { conn(this).close(); }
  }

  function Data(obj) {
    if (!(this instanceof Data)) return new Data(obj);
    if (obj == null) return;
    if (typeof obj !== 'object' || Array.isArray(obj)) {
      throw new TypeError(`viz.Data: expected a plain object, got ${Array.isArray(obj) ? 'an array' : describe(obj)}`);
    }
    // Not Object.assign: an own "__proto__" key would set the prototype.
    for (const key of Object.keys(obj)) {
      Object.defineProperty(this, key, { value: obj[key], enumerable: true, writable: true, configurable: true });
    }
  }

  const existing = root.viz;
  const viz = existing !== null && (typeof existing === 'object' || typeof existing === 'function') ? existing : {};
  viz.isWebSocketSupported = function isWebSocketSupported() {
    return typeof root.WebSocket === 'function';
  };
  viz.WebSocket = VizWebSocket;
  viz.Data = Data;
  viz.RequestError = RequestError;
  root.viz = viz;
})(globalThis);
