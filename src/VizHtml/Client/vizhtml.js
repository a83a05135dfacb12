// @ts-check
/*
 * vizhtml.js: browser side of VizHtml (wire protocol version 1).
 *
 * Load with a plain <script src="vizhtml.js"></script>. It defines (or extends)
 * the global `viz` with:
 *
 *   viz.isWebSocketSupported()        -> boolean
 *   new viz.WebSocket(url?, options?)  -> connects at once
 *   viz.Data(obj) / new viz.Data(obj)  -> attribute bag that serialises as obj
 *
 * Connection states (socket.state):
 *
 *   'connecting'    the first attempt, started by the constructor, is in flight.
 *   'open'          connected; send() works; isConnected() is true.
 *   'reconnecting'  reconnect() is running: either waiting out a backoff delay
 *                   or an attempt is in flight. Failed attempts are silent.
 *   'closed'        not connected and not trying. Only reconnect() leaves it.
 *
 *   connecting   --open-->  open
 *   connecting   --fail-->  closed        ('close' fires)
 *   open         --lost-->  closed        ('close' fires)
 *   closed       --reconnect()--> reconnecting
 *   reconnecting --fail-->  reconnecting  (next attempt after a backoff delay)
 *   reconnecting --open-->  open          ('open' fires)
 *   any          --close()--> closed      ('close' fires only if it was open)
 *
 * Every frame, both ways, is a text frame holding
 * {"event": "<name>", "data": <any JSON>}. Names starting with "$" belong to the
 * protocol; the server uses "$error" to reject something we sent.
 *
 * No dependencies and no build step; this file is served as is.
 */
(/**
 * @param {typeof globalThis & { viz?: any }} root
 */ function (root) {
  'use strict';

  /** Names beginning with this belong to the protocol, not to applications. */
  const RESERVED_PREFIX = '$';
  const CATCH_ALL = '*';
  const SOCKET_PATH = '/vizhtml/socket';
  // Numeric rather than WebSocket.OPEN so a polyfill or test double without
  // the static constants still works.
  const READY_STATE_OPEN = 1;
  const NORMAL_CLOSURE = 1000;

  const DEFAULT_RECONNECT = Object.freeze({
    initialDelayMs: 500,
    maxDelayMs: 5000,
    factor: 2,
  });

  /**
   * @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} ConnectionState
   *
   * @typedef {object} ReconnectOptions
   * @property {number} [initialDelayMs] delay before the first attempt (default 500)
   * @property {number} [maxDelayMs] ceiling for the delay (default 5000)
   * @property {number} [factor] growth per failed attempt (default 2)
   *
   * @typedef {object} SocketOptions
   * @property {ReconnectOptions} [reconnect]
   * @property {boolean} [autoReconnect] call reconnect() after 'close' (default false)
   *
   * @typedef {{ event: string, data: unknown }} Envelope
   *
   * @typedef {{ fn: (this: VizWebSocket, e: any) => void }} Registration
   *   A wrapper per onevent() call, so that registering the same function
   *   twice gives two independent subscriptions.
   */

  // ---------------------------------------------------------------------------
  // Wire format
  //
  // These two functions are the only places that know the envelope layout.
  // Later protocol additions belong here and nowhere else:
  //   - `seq`: per-direction sequence numbers stamped in encode, checked in decode;
  //   - acks: "$ack" envelopes consumed in decode, never reaching handlers;
  //   - resume token: a "$resume" envelope carrying it, sent right after open;
  //   - heartbeat: "$ping"/"$pong" answered without involving handlers.
  // Anything the protocol consumes itself should make decode return null.
  // ---------------------------------------------------------------------------

  /**
   * @param {string} name already validated
   * @param {unknown} data
   * @returns {string}
   */
  function encodeEnvelope(name, data) {
    try {
      return JSON.stringify({ event: name, data: data === undefined ? null : data });
    } catch (err) {
      // Cyclic structures and BigInt land here; naming the event tells the
      // page author which send() call to look at.
      const reason = err instanceof Error ? err.message : String(err);
      throw new TypeError(
        `viz.WebSocket.send: data for event "${name}" cannot be encoded as JSON (${reason})`
      );
    }
  }

  /**
   * Never throws: a bad frame from the server is the server's bug, and must
   * not take the page down with it.
   * @param {unknown} raw MessageEvent.data
   * @returns {Envelope | null}
   */
  function decodeEnvelope(raw) {
    if (typeof raw !== 'string') {
      console.warn('vizhtml: ignoring non-text frame from server');
      return null;
    }
    /** @type {unknown} */
    let parsed;
    try {
      parsed = JSON.parse(raw);
    } catch (_err) {
      console.warn('vizhtml: ignoring frame that is not JSON:', truncate(raw));
      return null;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      console.warn('vizhtml: ignoring frame that is not a JSON object:', truncate(raw));
      return null;
    }
    const obj = /** @type {Record<string, unknown>} */ (parsed);
    if (typeof obj.event !== 'string' || obj.event === '') {
      console.warn('vizhtml: ignoring frame without a string "event":', truncate(raw));
      return null;
    }
    return { event: obj.event, data: obj.data === undefined ? null : obj.data };
  }

  /** @param {string} text */
  function truncate(text) {
    return text.length > 200 ? text.slice(0, 200) + '…' : text;
  }

  // ---------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------

  /**
   * @param {unknown} name
   * @param {string} where for the error message
   * @returns {asserts name is string}
   */
  function checkEventName(name, where) {
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(`${where}: event name must be a non-empty string, got ${describe(name)}`);
    }
  }

  /** @param {unknown} value */
  function describe(value) {
    if (value === null) return 'null';
    if (typeof value === 'string') return JSON.stringify(value);
    return typeof value;
  }

  /** @returns {string} */
  function defaultSocketUrl() {
    const loc = root.location;
    if (!loc || !loc.host) {
      throw new TypeError(
        'viz.WebSocket: no url given and the page has no location.host to derive one from'
      );
    }
    const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    let url = `${scheme}//${loc.host}${SOCKET_PATH}`;
    // Carried over for the planned access-key check; the server ignores it today.
    const key = new URLSearchParams(loc.search || '').get('key');
    if (key !== null) url += `?key=${encodeURIComponent(key)}`;
    return url;
  }

  /**
   * @param {unknown} value
   * @param {string} name
   * @param {number} fallback
   * @param {number} min
   */
  function readNumber(value, name, fallback, min) {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new RangeError(`viz.WebSocket: options.reconnect.${name} must be a finite number >= ${min}`);
    }
    return value;
  }

  /**
   * @param {SocketOptions | undefined} options
   * @returns {{ initialDelayMs: number, maxDelayMs: number, factor: number, autoReconnect: boolean }}
   */
  function readOptions(options) {
    const opts = options || {};
    const rc = opts.reconnect || {};
    const initialDelayMs = readNumber(rc.initialDelayMs, 'initialDelayMs', DEFAULT_RECONNECT.initialDelayMs, 0);
    const maxDelayMs = readNumber(rc.maxDelayMs, 'maxDelayMs', DEFAULT_RECONNECT.maxDelayMs, 0);
    // A factor below 1 would make the delay shrink towards a hot loop.
    const factor = readNumber(rc.factor, 'factor', DEFAULT_RECONNECT.factor, 1);
    return {
      initialDelayMs,
      maxDelayMs: Math.max(maxDelayMs, initialDelayMs),
      factor,
      autoReconnect: opts.autoReconnect === true,
    };
  }

  // ---------------------------------------------------------------------------
  // Connection: all the machinery. Kept out of the public object (see
  // `internals`) so pages cannot reach in and desynchronise the state machine.
  // ---------------------------------------------------------------------------

  class Connection {
    /**
     * @param {VizWebSocket} owner `this` for handlers
     * @param {string} url
     * @param {ReturnType<typeof readOptions>} config
     */
    constructor(owner, url, config) {
      this.owner = owner;
      this.url = url;
      this.config = config;
      /** @type {ConnectionState} */
      this.state = 'connecting';
      /** @type {Map<string, Registration[]>} */
      this.handlers = new Map();
      /** @type {WebSocket | null} the socket whose events we act on; others are stale */
      this.ws = null;
      /** failed attempts since the last successful open */
      this.attempt = 0;
      /** @type {ReturnType<typeof setTimeout> | null} */
      this.timer = null;
      this.warnedOffline = false;
      this.wakeListening = false;
      // Bumped by close() and reconnect(), so code running after handlers can
      // tell whether a handler took control of the socket.
      this.epoch = 0;
      this.onWake = this.onWake.bind(this);
    }

    // --- handlers -----------------------------------------------------------

    /**
     * @param {string} name
     * @param {(this: VizWebSocket, e: any) => void} fn
     * @returns {() => void}
     */
    subscribe(name, fn) {
      /** @type {Registration} */
      const reg = { fn };
      let list = this.handlers.get(name);
      if (!list) {
        list = [];
        this.handlers.set(name, list);
      }
      list.push(reg);
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        const current = this.handlers.get(name);
        if (!current) return;
        const i = current.indexOf(reg);
        if (i !== -1) current.splice(i, 1);
        if (current.length === 0) this.handlers.delete(name);
      };
    }

    /**
     * @param {string} name
     * @param {object} e
     */
    dispatch(name, e) {
      const list = this.handlers.get(name);
      if (!list) return;
      // A snapshot, so handlers that subscribe or unsubscribe while we are
      // dispatching neither skip a neighbour nor get called twice.
      for (const reg of list.slice()) {
        try {
          reg.fn.call(this.owner, e);
        } catch (err) {
          console.error(`vizhtml: a handler for "${name}" threw:`, err);
        }
      }
    }

    /** @param {Envelope} env */
    dispatchMessage(env) {
      if (env.event === '$error') {
        const d = /** @type {{ code?: unknown, message?: unknown } | null} */ (env.data);
        console.warn('vizhtml: server reported an error:', d && d.code, d && d.message);
      }
      const e = { event: env.event, data: env.data };
      // A server event literally named "*" must not reach catch-alls twice.
      if (env.event !== CATCH_ALL) this.dispatch(env.event, e);
      this.dispatch(CATCH_ALL, e);
    }

    // --- socket lifecycle ---------------------------------------------------

    /** Starts one attempt. Throws if the browser refuses to create the socket. */
    openSocket() {
      const Native = root.WebSocket;
      if (typeof Native !== 'function') {
        throw new Error('vizhtml: this browser does not support WebSocket');
      }
      const ws = new Native(this.url);
      this.ws = ws;
      // Every callback checks it still belongs to the current socket: after
      // close() or a failed attempt a replaced socket can still deliver events.
      ws.onopen = () => {
        if (this.ws === ws) this.handleOpen();
      };
      ws.onmessage = (ev) => {
        if (this.ws !== ws) return;
        const env = decodeEnvelope(ev.data);
        if (env) this.dispatchMessage(env);
      };
      ws.onerror = () => {
        // Errors during reconnect() attempts are expected and stay silent.
        if (this.ws === ws && (this.state === 'open' || this.state === 'connecting')) {
          this.dispatch('error', { event: 'error' });
        }
      };
      ws.onclose = (ev) => {
        if (this.ws === ws) this.handleSocketClosed(ev);
      };
    }

    /** @param {WebSocket} ws */
    detach(ws) {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onerror = null;
      ws.onclose = null;
      if (this.ws === ws) this.ws = null;
    }

    handleOpen() {
      this.clearTimer();
      this.setWakeListening(false);
      this.attempt = 0;
      this.warnedOffline = false;
      this.state = 'open';
      this.dispatch('open', { event: 'open' });
    }

    /** @param {CloseEvent} ev */
    handleSocketClosed(ev) {
      if (this.ws) this.detach(this.ws);
      if (this.state === 'reconnecting') {
        // Internal failure: no event, just wait and try again.
        this.scheduleAttempt();
        return;
      }
      // 'open' (connection lost) or 'connecting' (first attempt failed).
      this.state = 'closed';
      const epoch = this.epoch;
      this.dispatch('close', {
        event: 'close',
        code: ev.code,
        reason: ev.reason,
        wasClean: ev.wasClean,
      });
      // A 'close' handler may already have called reconnect() or close();
      // either is a decision by the page that autoReconnect must not override.
      if (this.config.autoReconnect && this.epoch === epoch) this.reconnect();
    }

    // --- reconnecting -------------------------------------------------------

    reconnect() {
      if (this.state !== 'closed') return;
      this.epoch += 1;
      this.state = 'reconnecting';
      this.attempt = 0;
      this.setWakeListening(true);
      this.scheduleAttempt();
    }

    /**
     * Full jitter would allow near-zero delays; keeping at least half the
     * backoff still spreads out a room of tablets reconnecting after a server
     * restart while guaranteeing there is never a hot loop.
     */
    nextDelayMs() {
      const { initialDelayMs, maxDelayMs, factor } = this.config;
      const base = Math.min(maxDelayMs, initialDelayMs * Math.pow(factor, this.attempt));
      return base * (0.5 + Math.random() * 0.5);
    }

    scheduleAttempt() {
      this.clearTimer();
      const delayMs = this.nextDelayMs();
      this.attempt += 1;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.attemptNow();
      }, delayMs);
    }

    attemptNow() {
      if (this.state !== 'reconnecting' || this.ws) return;
      try {
        this.openSocket();
      } catch (err) {
        // The same URL was accepted by the constructor, so a synchronous
        // failure now is unexpected; treat it as a failed attempt and keep
        // backing off rather than give up for good.
        console.warn('vizhtml: reconnect attempt could not start:', err);
        this.ws = null;
        this.scheduleAttempt();
      }
    }

    clearTimer() {
      if (this.timer !== null) {
        clearTimeout(this.timer);
        this.timer = null;
      }
    }

    /**
     * Timers are throttled or frozen while a tablet sleeps or a tab is hidden,
     * so a pending delay can be far longer than intended. When the page comes
     * back or the network returns, try immediately instead of waiting it out.
     * @param {Event} ev
     */
    onWake(ev) {
      if (this.state !== 'reconnecting' || this.ws) return;
      if (ev.type === 'visibilitychange') {
        const doc = root.document;
        if (!doc || doc.visibilityState !== 'visible') return;
      }
      this.clearTimer();
      this.attemptNow();
    }

    /**
     * Listening only while reconnecting keeps idle sockets free of global
     * listeners, so discarded sockets can be garbage collected.
     * @param {boolean} on
     */
    setWakeListening(on) {
      if (on === this.wakeListening) return;
      this.wakeListening = on;
      const doc = root.document;
      const hasDoc = !!doc && typeof doc.addEventListener === 'function';
      // Outside a window (workers, tests) there may be no global event target.
      const hasGlobal = typeof root.addEventListener === 'function';
      if (on) {
        if (hasDoc) doc.addEventListener('visibilitychange', this.onWake);
        if (hasGlobal) root.addEventListener('online', this.onWake);
      } else {
        if (hasDoc) doc.removeEventListener('visibilitychange', this.onWake);
        if (hasGlobal) root.removeEventListener('online', this.onWake);
      }
    }

    // --- public operations ----------------------------------------------------

    /**
     * @param {string} name
     * @param {unknown} data
     */
    send(name, data) {
      checkEventName(name, 'viz.WebSocket.send');
      if (name.startsWith(RESERVED_PREFIX)) {
        throw new TypeError(
          `viz.WebSocket.send: event names starting with "${RESERVED_PREFIX}" are reserved for the protocol, got ${JSON.stringify(name)}`
        );
      }
      // Encode before checking the connection so a bad payload fails the same
      // way whether or not the server happens to be reachable.
      const text = encodeEnvelope(name, data);
      const ws = this.ws;
      if (this.state !== 'open' || !ws || ws.readyState !== READY_STATE_OPEN) {
        // Offline queue goes here (planned): hold `text` until the next
        // 'open' instead of dropping it.
        if (!this.warnedOffline) {
          this.warnedOffline = true;
          console.warn(`vizhtml: not connected, dropping "${name}" (further drops are not reported until the next connection)`);
        }
        return false;
      }
      ws.send(text);
      return true;
    }

    close() {
      const wasOpen = this.state === 'open';
      this.epoch += 1;
      this.clearTimer();
      this.setWakeListening(false);
      const ws = this.ws;
      if (ws) {
        // Detach first: the native close event arrives later and must not
        // fire a second 'close' or trigger autoReconnect.
        this.detach(ws);
        try {
          ws.close(NORMAL_CLOSURE);
        } catch (_err) {
          // Already closing; nothing left to do.
        }
      }
      this.state = 'closed';
      if (wasOpen) {
        this.dispatch('close', { event: 'close', code: NORMAL_CLOSURE, reason: '', wasClean: true });
      }
    }
  }

  /** @type {WeakMap<VizWebSocket, Connection>} */
  const internals = new WeakMap();

  /** @param {VizWebSocket} socket */
  function conn(socket) {
    const c = internals.get(socket);
    if (!c) throw new TypeError('vizhtml: method called on an object that is not a viz.WebSocket');
    return c;
  }

  // ---------------------------------------------------------------------------
  // Public API
  // ---------------------------------------------------------------------------

  /**
   * A connection to the VizHtml server that speaks in named events.
   * Connects as soon as it is constructed.
   */
  class VizWebSocket {
    /**
     * @param {string} [url] defaults to ws(s)://<page host>/vizhtml/socket
     * @param {SocketOptions} [options]
     */
    constructor(url, options) {
      if (url !== undefined && url !== null && typeof url !== 'string') {
        throw new TypeError(`viz.WebSocket: url must be a string, got ${describe(url)}`);
      }
      const c = new Connection(this, url || defaultSocketUrl(), readOptions(options));
      internals.set(this, c);
      // A bad URL is the page author's bug: let the browser's error surface
      // from the constructor rather than as a silent 'close'.
      c.openSocket();
    }

    /** @returns {string} */
    get url() {
      return conn(this).url;
    }

    /** @returns {ConnectionState} */
    get state() {
      return conn(this).state;
    }

    /**
     * Calls `fn` (with `this` = the socket) for server events named `name`,
     * for the connection events 'open', 'close' and 'error', or, with '*',
     * for every server event. Handlers run in registration order.
     * @param {string} name
     * @param {(this: VizWebSocket, e: any) => void} fn
     * @returns {() => void} removes this registration
     */
    onevent(name, fn) {
      checkEventName(name, 'viz.WebSocket.onevent');
      if (typeof fn !== 'function') {
        throw new TypeError(`viz.WebSocket.onevent: handler for "${name}" must be a function, got ${describe(fn)}`);
      }
      return conn(this).subscribe(name, fn);
    }

    /**
     * Sends `{"event": name, "data": data}`.
     * @param {string} name
     * @param {unknown} [data] basic value, array, plain object or viz.Data
     * @returns {boolean} false if not connected (the message is dropped)
     */
    send(name, data) {
      return conn(this).send(name, data);
    }

    /**
     * Retries with backoff until the server answers. A no-op unless the
     * socket is 'closed'.
     */
    reconnect() {
      conn(this).reconnect();
    }

    /** @returns {boolean} */
    isConnected() {
      return conn(this).state === 'open';
    }

    /** Closes with code 1000 and stops any reconnecting. */
    close() {
      conn(this).close();
    }
  }

  /**
   * An attribute bag: `viz.Data({count: 3}).count === 3`, and it serialises
   * exactly like the object it was made from. Callable with or without `new`
   * because pages written for the original toolkit omit it.
   * @constructor
   * @param {Record<string, unknown> | null} [obj]
   */
  function Data(obj) {
    if (!(this instanceof Data)) return new Data(obj);
    if (obj === undefined || obj === null) return;
    if (typeof obj !== 'object' || Array.isArray(obj)) {
      throw new TypeError(`viz.Data: expected a plain object, got ${Array.isArray(obj) ? 'an array' : describe(obj)}`);
    }
    // Not Object.assign: for an own "__proto__" key (JSON.parse makes those)
    // it would run the prototype setter, dropping the member and the bag's
    // viz.Data prototype instead of copying it.
    for (const key of Object.keys(obj)) {
      Object.defineProperty(this, key, { value: obj[key], enumerable: true, writable: true, configurable: true });
    }
  }

  /** @returns {boolean} */
  function isWebSocketSupported() {
    return typeof root.WebSocket === 'function';
  }

  // Extend rather than replace: other scripts may have put things on `viz`.
  const existing = root.viz;
  const viz = existing !== null && (typeof existing === 'object' || typeof existing === 'function') ? existing : {};
  viz.isWebSocketSupported = isWebSocketSupported;
  viz.WebSocket = VizWebSocket;
  viz.Data = Data;
  root.viz = viz;
})(globalThis);
