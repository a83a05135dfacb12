// @ts-check
/*
 * vizhtml.js: browser side of VizHtml (wire protocol version 2; version 1 on request).
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
 *   'open'          connected (version 2: the server's $welcome has arrived);
 *                   isConnected() is true.
 *   'reconnecting'  reconnect() is running: either waiting out a backoff delay
 *                   or an attempt is in flight. Failed attempts are silent.
 *   'closed'        not connected and not trying. Only reconnect() leaves it.
 *
 *   connecting   --open-->  open          ('open' fires, then 'resync' if due)
 *   connecting   --fail-->  closed        ('close' fires)
 *   open         --lost-->  closed        ('close' fires; also when the server went silent)
 *   closed       --reconnect()--> reconnecting
 *   reconnecting --fail-->  reconnecting  (next attempt after a backoff delay)
 *   reconnecting --open-->  open          ('open' fires, then 'resync' if due)
 *   any          --close()--> closed      ('close' fires only if it was open)
 *
 * Version 2 (the default) keeps a session across connections: an attempt
 * "opens" when the server answers our $hello with $welcome. Events both ways
 * carry sequence numbers; the server replays what we missed while away, and
 * we resend what it had not acknowledged. See docs/js-api.md.
 *
 * Every frame, both ways, is a text frame holding
 * {"event": "<name>", "data": <any JSON>} (version 2 adds "seq"). Names
 * starting with "$" belong to the protocol.
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
  /** From the 4000-4999 range RFC 6455 leaves to applications: we gave up on a silent server. */
  const SERVER_SILENT = 4000;

  const PROTOCOL_VERSION = 2;
  const HELLO_EVENT = '$hello';
  const WELCOME_EVENT = '$welcome';
  const ACK_EVENT = '$ack';
  const HEARTBEAT_EVENT = '$heartbeat';
  const ERROR_EVENT = '$error';

  /** As long as the server waits for our $hello: a $welcome later than that is not coming. */
  const HANDSHAKE_TIMEOUT_MS = 10000;
  /** Used until a $welcome says otherwise. */
  const DEFAULT_HEARTBEAT_MS = 15000;
  /** No inbound frame for this many heartbeat intervals means the connection is dead. */
  const SILENCE_FACTOR = 2.5;
  /** Coarse on purpose: the check compares Date.now() stamps, so a late (throttled) tick only detects later. */
  const SILENCE_CHECK_MS = 5000;
  /** Acknowledge after this many sequenced events... */
  const ACK_EVERY = 32;
  /** ...or this long after the first unacknowledged one. */
  const ACK_DELAY_MS = 250;

  const DEFAULT_RECONNECT = Object.freeze({
    initialDelayMs: 500,
    maxDelayMs: 5000,
    factor: 2,
  });

  const DEFAULT_OFFLINE_QUEUE = Object.freeze({
    maxMessages: 1000,
    maxAgeMs: 120000,
  });

  /**
   * @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} ConnectionState
   *
   * @typedef {object} ReconnectOptions
   * @property {number} [initialDelayMs] delay before the first attempt (default 500)
   * @property {number} [maxDelayMs] ceiling for the delay (default 5000)
   * @property {number} [factor] growth per failed attempt (default 2)
   *
   * @typedef {object} OfflineQueueOptions
   * @property {number} [maxMessages] events kept while not connected (default 1000)
   * @property {number} [maxAgeMs] older ones are dropped on reconnect (default 120000)
   *
   * @typedef {object} SocketOptions
   * @property {ReconnectOptions} [reconnect]
   * @property {boolean} [autoReconnect] call reconnect() after 'close' (default false)
   * @property {1 | 2} [protocol] wire protocol version (default 2)
   * @property {OfflineQueueOptions} [offlineQueue] version 2 only
   *
   * @typedef {object} SendOptions
   * @property {boolean} [volatile] never queued or resent: dropped when not connected
   *
   * @typedef {{ event: string, data: unknown, seq: number }} Envelope
   *   seq is 0 when the frame has none.
   *
   * @typedef {{ seq: number, text: string, queuedAtMs: number }} OutboundEvent
   *   An event sent with a sequence number and not yet acknowledged by the server.
   *
   * @typedef {{ code: number, reason: string, wasClean: boolean }} CloseInfo
   *
   * @typedef {{ fn: (this: VizWebSocket, e: any) => void }} Registration
   *   A wrapper per onevent() call, so that registering the same function
   *   twice gives two independent subscriptions.
   */

  // ---------------------------------------------------------------------------
  // Wire format
  //
  // These functions are the only places that know the envelope layout.
  // Version 2 adds a "seq" member to application events in both directions;
  // protocol messages ("$hello", "$welcome", "$ack", "$heartbeat") have none.
  // ---------------------------------------------------------------------------

  /**
   * @param {string} name already validated
   * @param {unknown} data
   * @param {number} [seq] version 2 sequence number; omitted for unsequenced events
   * @returns {string}
   */
  function encodeEnvelope(name, data, seq) {
    const value = data === undefined ? null : data;
    try {
      return JSON.stringify(seq ? { event: name, data: value, seq } : { event: name, data: value });
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
   * @param {string} name a protocol event, starting with "$"
   * @param {unknown} data
   */
  function encodeControl(name, data) {
    return JSON.stringify({ event: name, data });
  }

  /**
   * Never throws: a bad frame from the server is the server's bug, and must
   * not take the page down with it.
   * @param {unknown} raw MessageEvent.data
   * @param {boolean} sequenced version 2: a "seq" member must be a positive integer
   * @returns {Envelope | null}
   */
  function decodeEnvelope(raw, sequenced) {
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
    let seq = 0;
    if (sequenced && obj.seq !== undefined) {
      if (!isCount(obj.seq) || obj.seq === 0) {
        // Dispatching it unsequenced could deliver it twice after a replay.
        console.warn('vizhtml: ignoring frame whose "seq" is not a positive integer:', truncate(raw));
        return null;
      }
      seq = obj.seq;
    }
    return { event: obj.event, data: obj.data === undefined ? null : obj.data, seq };
  }

  /** @param {string} text */
  function truncate(text) {
    return text.length > 200 ? text.slice(0, 200) + '…' : text;
  }

  // ---------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------

  /**
   * @param {unknown} value
   * @returns {value is number} a safe integer >= 0
   */
  function isCount(value) {
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  }

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

  /**
   * @param {1 | 2} protocol
   * @returns {string}
   */
  function defaultSocketUrl(protocol) {
    const loc = root.location;
    if (!loc || !loc.host) {
      throw new TypeError(
        'viz.WebSocket: no url given and the page has no location.host to derive one from'
      );
    }
    const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = protocol === 1 ? [] : [`v=${PROTOCOL_VERSION}`];
    // The server's access key, when the page was opened with one.
    const key = new URLSearchParams(loc.search || '').get('key');
    if (key !== null) query.push(`key=${encodeURIComponent(key)}`);
    return `${scheme}//${loc.host}${SOCKET_PATH}${query.length ? '?' + query.join('&') : ''}`;
  }

  /**
   * Adds v=2 to a URL the page passed in, touching nothing else unless it
   * already names another version.
   * @param {string} url
   */
  function withVersion(url) {
    const hashAt = url.indexOf('#');
    const beforeHash = hashAt === -1 ? url : url.slice(0, hashAt);
    const hash = hashAt === -1 ? '' : url.slice(hashAt);
    const queryAt = beforeHash.indexOf('?');
    if (queryAt === -1) return `${beforeHash}?v=${PROTOCOL_VERSION}${hash}`;
    const params = new URLSearchParams(beforeHash.slice(queryAt + 1));
    const current = params.getAll('v');
    if (current.length === 1 && current[0] === String(PROTOCOL_VERSION)) return url;
    if (current.length === 0) {
      const sep = queryAt === beforeHash.length - 1 || beforeHash.endsWith('&') ? '' : '&';
      return `${beforeHash}${sep}v=${PROTOCOL_VERSION}${hash}`;
    }
    params.set('v', String(PROTOCOL_VERSION));
    return `${beforeHash.slice(0, queryAt)}?${params.toString()}${hash}`;
  }

  /**
   * @param {unknown} value
   * @param {string} name path below options, for the error message
   * @param {number} fallback
   * @param {number} min
   */
  function readNumber(value, name, fallback, min) {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new RangeError(`viz.WebSocket: options.${name} must be a finite number >= ${min}`);
    }
    return value;
  }

  /**
   * @param {SocketOptions | undefined} options
   */
  function readOptions(options) {
    const opts = options || {};
    const rc = opts.reconnect || {};
    const initialDelayMs = readNumber(rc.initialDelayMs, 'reconnect.initialDelayMs', DEFAULT_RECONNECT.initialDelayMs, 0);
    const maxDelayMs = readNumber(rc.maxDelayMs, 'reconnect.maxDelayMs', DEFAULT_RECONNECT.maxDelayMs, 0);
    // A factor below 1 would make the delay shrink towards a hot loop.
    const factor = readNumber(rc.factor, 'reconnect.factor', DEFAULT_RECONNECT.factor, 1);
    if (opts.protocol !== undefined && opts.protocol !== 1 && opts.protocol !== 2) {
      throw new RangeError(`viz.WebSocket: options.protocol must be 1 or 2, got ${describe(opts.protocol)}`);
    }
    const oq = opts.offlineQueue || {};
    const maxMessages = Math.floor(readNumber(oq.maxMessages, 'offlineQueue.maxMessages', DEFAULT_OFFLINE_QUEUE.maxMessages, 1));
    const maxAgeMs = readNumber(oq.maxAgeMs, 'offlineQueue.maxAgeMs', DEFAULT_OFFLINE_QUEUE.maxAgeMs, 0);
    return {
      initialDelayMs,
      maxDelayMs: Math.max(maxDelayMs, initialDelayMs),
      factor,
      autoReconnect: opts.autoReconnect === true,
      /** @type {1 | 2} */
      protocol: opts.protocol === 1 ? 1 : 2,
      offlineQueue: { maxMessages, maxAgeMs },
    };
  }

  /** @param {() => void} fn */
  function later(fn) {
    if (typeof queueMicrotask === 'function') queueMicrotask(fn);
    else Promise.resolve().then(fn);
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
      this.v2 = config.protocol === 2;
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

      // --- version 2 session: outlives connections, ended by close() --------
      /** @type {string | null} the resume token from the last $welcome; works once */
      this.token = null;
      /** @type {string | null} */
      this.clientId = null;
      /** @type {boolean | null} null until a connection tried to resume */
      this.recovered = null;
      /** the highest server seq handed to handlers */
      this.lastSeq = 0;
      /** sequenced events handled since our last $ack */
      this.unacked = 0;
      /** @type {ReturnType<typeof setTimeout> | null} */
      this.ackTimer = null;
      /** after a recovering $welcome: acknowledge as soon as lastSeq reaches this (0: no replay pending) */
      this.replayThrough = 0;
      /** the last seq we numbered an event with; never reset, so the server's dedupe stays valid */
      this.outSeq = 0;
      /** @type {OutboundEvent[]} sent or queued, not yet acknowledged; in seq order */
      this.outbox = [];
      /** outbox events dropped and not yet reported by an 'overflow' event */
      this.overflowDropped = 0;
      /** set by close(): the session is over and send() drops until reconnect() */
      this.ended = false;

      // --- version 2, per connection ----------------------------------------
      /** the current socket's $welcome has arrived */
      this.welcomed = false;
      /** the current socket's $hello carried a token */
      this.resuming = false;
      this.heartbeatMs = DEFAULT_HEARTBEAT_MS;
      /** Date.now() of the last frame of any kind from the server */
      this.lastInboundAtMs = 0;
      /** @type {ReturnType<typeof setInterval> | null} */
      this.silenceTimer = null;
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
      if (env.event === ERROR_EVENT) {
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
        if (this.ws !== ws) return;
        if (this.v2) this.sendHello(ws);
        else this.handleOpen();
      };
      ws.onmessage = (ev) => {
        if (this.ws !== ws) return;
        if (!this.v2) {
          const env = decodeEnvelope(ev.data, false);
          if (env) this.dispatchMessage(env);
          return;
        }
        this.lastInboundAtMs = Date.now();
        const env = decodeEnvelope(ev.data, true);
        if (env) this.handleFrame(ws, env);
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
      if (this.ws === ws) {
        this.ws = null;
        // Per-connection protocol state; the session (token, seqs, outbox) stays.
        this.welcomed = false;
        this.stopSilenceWatch();
        this.clearAckTimer();
        this.replayThrough = 0;
      }
    }

    /** Version 1: the attempt opens with the socket. */
    handleOpen() {
      this.enterOpen();
      this.dispatch('open', { event: 'open' });
    }

    /** The transition to 'open', without its event. */
    enterOpen() {
      this.clearTimer();
      this.setWakeListening(false);
      this.attempt = 0;
      this.warnedOffline = false;
      this.state = 'open';
    }

    /** @param {CloseInfo} ev */
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

    // --- version 2: handshake -------------------------------------------------

    /**
     * The socket is open but the attempt is not: it opens when $welcome
     * arrives. Until then nothing is sent but $hello.
     * @param {WebSocket} ws
     */
    sendHello(ws) {
      this.welcomed = false;
      this.resuming = this.token !== null;
      this.lastInboundAtMs = Date.now();
      this.startSilenceWatch();
      ws.send(encodeControl(HELLO_EVENT, { v: PROTOCOL_VERSION, token: this.token, lastSeq: this.lastSeq }));
    }

    /**
     * @param {WebSocket} ws
     * @param {Envelope} env
     */
    handleFrame(ws, env) {
      switch (env.event) {
        case WELCOME_EVENT:
          this.handleWelcome(ws, env.data);
          return;
        case ACK_EVENT: {
          const d = /** @type {{ seq?: unknown } | null} */ (env.data);
          if (d && isCount(d.seq)) this.acknowledged(d.seq);
          return;
        }
        case HEARTBEAT_EVENT:
          // Its arrival (lastInboundAtMs) is the whole message.
          return;
        case ERROR_EVENT:
          this.dispatchMessage(env);
          return;
      }
      if (!this.welcomed) {
        console.warn(`vizhtml: ignoring "${env.event}" that arrived before $welcome`);
        return;
      }
      if (env.seq === 0) {
        // Latest-value and volatile events: not numbered, never replayed.
        this.dispatchMessage(env);
        return;
      }
      // A replay can repeat what we handled just before the connection broke.
      if (env.seq <= this.lastSeq) return;
      this.lastSeq = env.seq;
      this.dispatchMessage(env);
      // A handler may have closed the socket: then there is nothing to acknowledge on.
      if (this.ws === ws) this.noteHandled();
    }

    /**
     * @param {WebSocket} ws
     * @param {unknown} data
     */
    handleWelcome(ws, data) {
      if (this.welcomed) {
        console.warn('vizhtml: ignoring a second $welcome on one connection');
        return;
      }
      const d = /** @type {Record<string, unknown>} */ (data !== null && typeof data === 'object' ? data : {});
      this.welcomed = true;
      this.token = typeof d.token === 'string' ? d.token : null;
      this.clientId = typeof d.id === 'string' ? d.id : null;
      this.heartbeatMs = typeof d.heartbeatMs === 'number' && d.heartbeatMs > 0 ? d.heartbeatMs : DEFAULT_HEARTBEAT_MS;
      this.startSilenceWatch();
      const resumed = d.resumed === true;
      const recovered = d.recovered === true;
      const sentSeq = isCount(d.sentSeq) ? d.sentSeq : 0;

      /** @type {'gap' | 'restarted' | null} */
      let resync = null;
      this.recovered = this.resuming ? recovered : null;
      this.unacked = 0;
      this.clearAckTimer();
      if (recovered) {
        // The replay follows the welcome and ends with sentSeq.
        this.replayThrough = sentSeq > this.lastSeq ? sentSeq : 0;
      } else {
        // Nothing is replayed: numbering continues after what the server sent.
        this.lastSeq = sentSeq;
        if (this.resuming) resync = resumed ? 'gap' : 'restarted';
      }

      // What the server has processed needs no resending; a new session has processed nothing.
      this.acknowledged(isCount(d.lastSeq) ? d.lastSeq : 0);
      this.trimOutbox(true);

      this.enterOpen();
      // Before the 'open' handlers run, so that what they send goes after
      // what was queued: the server sees events in the order send() was called.
      for (const queued of this.outbox) ws.send(queued.text);
      const epoch = this.epoch;
      this.dispatch('open', { event: 'open' });
      // After the 'open' handlers, unless one of them closed the socket.
      if (resync && this.epoch === epoch && this.ws === ws) {
        this.dispatch('resync', { event: 'resync', reason: resync });
      }
    }

    /** @param {number} seq everything up to it was processed by the server */
    acknowledged(seq) {
      let n = 0;
      while (n < this.outbox.length && this.outbox[n].seq <= seq) n += 1;
      if (n > 0) this.outbox.splice(0, n);
    }

    // --- version 2: acknowledging what we received ----------------------------

    noteHandled() {
      this.unacked += 1;
      if (this.unacked >= ACK_EVERY || (this.replayThrough !== 0 && this.lastSeq >= this.replayThrough)) {
        this.replayThrough = 0;
        this.sendAck();
      } else if (this.ackTimer === null) {
        // One timer for a burst, not one per message.
        this.ackTimer = setTimeout(() => {
          this.ackTimer = null;
          this.sendAck();
        }, ACK_DELAY_MS);
      }
    }

    sendAck() {
      this.clearAckTimer();
      const ws = this.ws;
      if (this.unacked === 0 || !this.welcomed || !ws || ws.readyState !== READY_STATE_OPEN) return;
      this.unacked = 0;
      ws.send(encodeControl(ACK_EVENT, { seq: this.lastSeq }));
    }

    clearAckTimer() {
      if (this.ackTimer !== null) {
        clearTimeout(this.ackTimer);
        this.ackTimer = null;
      }
    }

    // --- version 2: outbound queue --------------------------------------------

    /**
     * Applies the offline bounds, oldest first, and schedules an 'overflow'
     * report for what it dropped.
     * @param {boolean} byAge also drop events older than maxAgeMs (on reconnect)
     */
    trimOutbox(byAge) {
      const { maxMessages, maxAgeMs } = this.config.offlineQueue;
      let n = Math.max(0, this.outbox.length - maxMessages);
      if (byAge) {
        const now = Date.now();
        while (n < this.outbox.length && now - this.outbox[n].queuedAtMs > maxAgeMs) n += 1;
      }
      if (n === 0) return;
      this.outbox.splice(0, n);
      this.overflowDropped += n;
      if (this.overflowDropped === n) {
        // Reported after the current task: a loop of sends gets one event, and
        // a handler that sends never runs inside send().
        later(() => this.reportOverflow());
      }
    }

    reportOverflow() {
      const dropped = this.overflowDropped;
      if (dropped === 0) return;
      this.overflowDropped = 0;
      console.warn(`vizhtml: dropped the ${dropped} oldest unsent event(s): offline queue full or too old`);
      this.dispatch('overflow', { event: 'overflow', dropped });
    }

    // --- version 2: silence detection -----------------------------------------

    startSilenceWatch() {
      this.stopSilenceWatch();
      const limitMs = this.silenceLimitMs();
      this.silenceTimer = setInterval(() => this.checkSilence(), Math.min(SILENCE_CHECK_MS, limitMs / 2));
    }

    stopSilenceWatch() {
      if (this.silenceTimer !== null) {
        clearInterval(this.silenceTimer);
        this.silenceTimer = null;
      }
    }

    silenceLimitMs() {
      return this.welcomed ? this.heartbeatMs * SILENCE_FACTOR : HANDSHAKE_TIMEOUT_MS;
    }

    /**
     * Browsers cannot see WebSocket pings, and a connection that died without
     * FIN or RST stays "open" for minutes. The server writes at least every
     * heartbeatMs, so a longer silence means the connection is gone. Judged
     * from timestamps, so a throttled timer only makes detection later, never
     * falsely earlier.
     */
    checkSilence() {
      const ws = this.ws;
      if (!ws) {
        this.stopSilenceWatch();
        return;
      }
      const silentMs = Date.now() - this.lastInboundAtMs;
      if (silentMs < this.silenceLimitMs()) return;
      console.warn(`vizhtml: nothing from the server for ${Math.round(silentMs)} ms; treating the connection as lost`);
      this.detach(ws);
      try {
        ws.close(SERVER_SILENT, 'server silent');
      } catch (_err) {
        // Already closing; nothing left to do.
      }
      this.handleSocketClosed({ code: SERVER_SILENT, reason: 'server silent', wasClean: false });
    }

    // --- reconnecting -------------------------------------------------------

    reconnect() {
      if (this.state !== 'closed') return;
      this.epoch += 1;
      this.ended = false;
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
     * @param {SendOptions | undefined} options
     */
    send(name, data, options) {
      checkEventName(name, 'viz.WebSocket.send');
      if (name.startsWith(RESERVED_PREFIX)) {
        throw new TypeError(
          `viz.WebSocket.send: event names starting with "${RESERVED_PREFIX}" are reserved for the protocol, got ${JSON.stringify(name)}`
        );
      }
      if (options !== undefined && options !== null && typeof options !== 'object') {
        throw new TypeError(`viz.WebSocket.send: options must be an object, got ${describe(options)}`);
      }
      const ws = this.ws;
      const connected = this.state === 'open' && !!ws && ws.readyState === READY_STATE_OPEN;
      // Version 1 and volatile events are never numbered, kept or resent.
      if (!this.v2 || (options && options.volatile === true) || this.ended) {
        // Encode before checking the connection so a bad payload fails the same
        // way whether or not the server happens to be reachable.
        const text = encodeEnvelope(name, data);
        if (!connected || !ws) {
          if (!this.warnedOffline) {
            this.warnedOffline = true;
            console.warn(`vizhtml: not connected, dropping "${name}" (further drops are not reported until the next connection)`);
          }
          return false;
        }
        ws.send(text);
        return true;
      }
      const seq = this.outSeq + 1;
      const text = encodeEnvelope(name, data, seq);
      this.outSeq = seq;
      // Kept until the server acknowledges it: a connection can die with it in flight.
      this.outbox.push({ seq, text, queuedAtMs: Date.now() });
      if (connected && ws) ws.send(text);
      else this.trimOutbox(false);
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
      if (this.v2) {
        // A close by the page ends the session: the server forgets it too, so
        // the next connection starts afresh and nothing is resent.
        this.ended = true;
        this.token = null;
        this.recovered = null;
        this.lastSeq = 0;
        this.unacked = 0;
        this.outbox = [];
        this.overflowDropped = 0;
      }
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
      const config = readOptions(options);
      let target = url || defaultSocketUrl(config.protocol);
      if (url && config.protocol === 2) target = withVersion(url);
      const c = new Connection(this, target, config);
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
     * The server's id for this page's session (from $welcome), or null
     * before the first connection opened or with protocol 1.
     * @returns {string | null}
     */
    get id() {
      return conn(this).clientId;
    }

    /**
     * Whether the last resume got every missed event back: true, false (a
     * 'resync' event fired), or null while no connection has resumed.
     * @returns {boolean | null}
     */
    get recovered() {
      return conn(this).recovered;
    }

    /**
     * Calls `fn` (with `this` = the socket) for server events named `name`,
     * for the connection events 'open', 'close', 'error', 'resync' and
     * 'overflow', or, with '*', for every server event. Handlers run in
     * registration order.
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
     * Sends `{"event": name, "data": data}`. With protocol 2 an event sent
     * while not connected is queued and sent on reconnect (unless volatile).
     * @param {string} name
     * @param {unknown} [data] basic value, array, plain object or viz.Data
     * @param {SendOptions} [options]
     * @returns {boolean} false if the event was dropped (not connected, and
     *   volatile, protocol 1, or after close())
     */
    send(name, data, options) {
      return conn(this).send(name, data, options);
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

    /** Closes with code 1000, stops any reconnecting and ends the session. */
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
