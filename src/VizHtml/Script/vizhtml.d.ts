// Type declarations for vizhtml.js (VizHtml wire protocol version 2; version 1 on request).
//
// vizhtml.js is a classic script that defines a global `viz`, so this file is
// a global declaration (no imports or exports). Reference it with
//   /// <reference path="vizhtml.d.ts" />
// or list it in tsconfig "files"/"include". The npm package's module types
// (npm/vizhtml) are made from this file: each declaration below, exported.

declare namespace viz {
    /**
     * 'connecting'   first attempt (from the constructor) in flight
     * 'open'         connected (protocol 2: the server's welcome has arrived)
     * 'reconnecting' reconnect() is waiting out a backoff delay or trying
     * 'closed'       not connected and not trying
     */
    type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

    /** Anything JSON can carry. */
    type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

    /**
     * What send() accepts as data: a basic value, an array, a plain object or
     * a viz.Data. `undefined` is sent as null. Typed loosely (`object`) so
     * interface-typed values are accepted; cycles are rejected at run time.
     * Protocol 2: bytes (`Binary`) as the data or anywhere inside it are sent
     * as binary parts of one binary message, not as JSON.
     */
    type SendData = string | number | boolean | null | undefined | object | Binary;

    /**
     * Bytes send() sends as binary parts (protocol 2): an ArrayBuffer, a typed
     * array or DataView (its viewed bytes), or a Blob. Bytes the server sends
     * (byte[] or ReadOnlyMemory<byte> in C#) arrive as `Uint8Array`s in place.
     */
    type Binary = ArrayBuffer | ArrayBufferView | Blob;

    interface ReconnectOptions {
        /** Delay before the first reconnect attempt. Default 500. */
        initialDelayMs?: number;
        /** Ceiling for the delay. Default 5000. */
        maxDelayMs?: number;
        /** Growth per failed attempt, >= 1. Default 2. */
        factor?: number;
    }

    /** Protocol 2: what send() keeps while not connected. */
    interface OfflineQueueOptions {
        /** Events kept, counting sent ones not yet acknowledged; the oldest go first ('overflow'). Default 1000. */
        maxMessages?: number;
        /** Events sent longer ago than this are dropped when the connection comes back ('overflow'). Default 120000. */
        maxAgeMs?: number;
        /**
         * Whether events queued, or sent and not yet acknowledged, before the server restarted (a new run: its welcome
         * has another epoch) are still sent to it. Default false: they are stale input for a program that started over,
         * so they are dropped and counted in the 'resync' event's `dropped`. A session the same run forgot (expired, or
         * evicted to stay within the server's limits) keeps them either way.
         */
        keepAcrossRestart?: boolean;
    }

    interface WebSocketOptions {
        reconnect?: ReconnectOptions;
        /** Call reconnect() automatically after 'close' handlers run. Default false. */
        autoReconnect?: boolean;
        /**
         * Wire protocol. 2 (default): sessions that survive reconnects, replay, acknowledgements, an offline queue
         * and heartbeats. 1: plain envelopes, nothing kept, as before version 2.
         */
        protocol?: 1 | 2;
        /** Protocol 2 only. */
        offlineQueue?: OfflineQueueOptions;
    }

    interface SendOptions {
        /** Sent only if connected now (else dropped, send() returns false); never numbered, queued or resent. */
        volatile?: boolean;
    }

    /**
     * A message event from the server. `data` is null when the server sent none. With protocol 2 a server frame may
     * be a batch (a JSON array of envelopes); each element arrives as its own event, in order. Bytes in the server's
     * data (a binary message's parts) arrive as `Uint8Array`s.
     */
    interface ServerEvent<T = any, Name extends string = string> {
        event: Name;
        data: T;
    }

    /**
     * A WebSocket's events when it is given no event map: any name, any data (received data typed `any`, sent data
     * `SendData`).
     */
    interface AnyEvents {
        [name: string]: any;
    }

    /** What '*' handlers receive: one ServerEvent per name of the map, so a check of `e.event` narrows `e.data`. */
    type AnyServerEvent<Events> = { [Name in keyof Events & string]: ServerEvent<Events[Name], Name> }[keyof Events & string];

    /** send()'s arguments after the name: data may be left out only where the map's type for it allows undefined. */
    type SendArguments<Data> = undefined extends Data ? [data?: Data, options?: SendOptions] : [data: Data, options?: SendOptions];

    /** Without an event map, any event name (`string`); with one, none beyond the map's names. */
    type UnmappedName<Events> = string extends keyof Events ? string : never;

    interface OpenEvent {
        event: 'open';
    }

    interface CloseEvent {
        event: 'close';
        /** The WebSocket close code; 4000 when the page gave up on a server that stayed silent. */
        code: number;
        reason: string;
        wasClean: boolean;
    }

    interface ErrorEvent {
        event: 'error';
    }

    /**
     * Fired after 'open' when the connection resumed without every missed server event:
     * 'gap' the server kept the session but no longer had all of them; 'restarted' it no longer knew the session
     * (restarted, session expired or ended). Fetch or wait for fresh state.
     */
    interface ResyncEvent {
        event: 'resync';
        reason: 'gap' | 'restarted';
        /**
         * How many events the page had queued or sent unacknowledged that were dropped, not delivered, because the server
         * is a new run (another epoch); send again what still matters. 0 otherwise, and with `offlineQueue.keepAcrossRestart`.
         */
        dropped: number;
    }

    /** The offline queue dropped its `dropped` oldest events (full, or too old when the connection came back). */
    interface OverflowEvent {
        event: 'overflow';
        dropped: number;
    }

    /** Payload of the reserved '$error' event: the server rejected something we sent. */
    interface ProtocolError {
        code: string;
        message: string;
    }

    /** Options of request(). */
    interface RequestOptions {
        /** How long to wait for the answer before the promise rejects with code 'timeout'. Default 30000. */
        timeoutMs?: number;
    }

    /**
     * Why a request failed: the promise of request() rejects with one, and a request handler may throw one to answer
     * with a code and message of its own. Codes of VizHtml: 'no_handler' (nobody answers that name), 'handler_error'
     * (the handler threw; the server sends no exception text unless told to), 'invalid_data' (the data did not fit the
     * handler's type), 'timeout' (no answer within timeoutMs), 'session_lost' (the session ended before the answer
     * came: closed, or the server restarted or forgot it), 'not_supported' (protocol 1, or a server without requests).
     */
    class RequestError extends Error {
        constructor(code: string, message?: string);
        readonly code: RequestErrorCode;
    }

    type RequestErrorCode = 'no_handler' | 'handler_error' | 'invalid_data' | 'timeout' | 'session_lost' | 'not_supported' | (string & {});

    /** One request of a request map: the data it carries and the answer it gets. */
    interface Call<Request = any, Response = any> {
        request: Request;
        response: Response;
    }

    /** A socket's requests when it is given no request map: any name, any data, any answer. */
    interface AnyRequests {
        [name: string]: Call;
    }

    /** request()'s arguments after the name: data may be left out only where the map's type for it allows undefined. */
    type RequestArguments<Data> = undefined extends Data ? [data?: Data, options?: RequestOptions] : [data: Data, options?: RequestOptions];

    /** A server request to the page: its name and data, as a ServerEvent. */
    interface ServerRequest<T = any, Name extends string = string> {
        event: Name;
        data: T;
    }

    /** Answers a server request: the value to send back, or a promise of it. A throw answers with an error. */
    type RequestHandler<C extends Call, Socket = WebSocket> = (this: Socket, e: ServerRequest<C['request']>) => C['response'] | PromiseLike<C['response']>;

    type EventHandler<E, Socket = WebSocket> = (this: Socket, e: E) => void;

    /** Call to remove the handler it was returned for. Safe to call more than once. */
    type Unsubscribe = () => void;

    /**
     * A connection to the VizHtml server that speaks in named events.
     *
     * Optionally typed by event maps, from event name to the type of its data: `Receive` for what the server sends,
     * `Send` for what the page sends (the same map by default). `new viz.WebSocket<{ pose: Pose; button_click: Click }>()`
     * makes `onevent('pose', e => ...)` see `e.data` as a `Pose`, and `send('button_click', data)` require a `Click`;
     * names outside the maps do not compile. Without maps any name and data are accepted, as in JavaScript.
     */
    class WebSocket<
        Receive extends object = AnyEvents,
        Send extends object = string extends keyof Receive ? { [name: string]: SendData } : Receive,
        Requests extends object = AnyRequests,
        Answers extends object = AnyRequests,
    > {
        /**
         * Connects immediately.
         * @param url defaults to ws(s)://<page host>/vizhtml/socket, keeping the page's `key` query parameter
         */
        constructor(url?: string, options?: WebSocketOptions);

        readonly url: string;
        readonly state: ConnectionState;
        /** The server's id for this page's session (VizClient.Id); null before the first welcome or with protocol 1. */
        readonly id: string | null;
        /** Whether the last resume replayed every missed event; null while no connection has resumed. */
        readonly recovered: boolean | null;

        /**
         * Calls `fn` (with `this` = the socket) for server events named `name`, for the connection events 'open',
         * 'close', 'error', 'resync' and 'overflow', or, with '*', for every server event. Handlers run in
         * registration order; the same function registered twice runs twice. Handlers added or removed during a
         * dispatch take effect from the next event. A handler that throws is reported with console.error and the
         * others still run.
         * @throws TypeError for an empty name or a handler that is not a function.
         */
        onevent(name: 'open', fn: EventHandler<OpenEvent, this>): Unsubscribe;
        onevent(name: 'close', fn: EventHandler<CloseEvent, this>): Unsubscribe;
        onevent(name: 'error', fn: EventHandler<ErrorEvent, this>): Unsubscribe;
        onevent(name: 'resync', fn: EventHandler<ResyncEvent, this>): Unsubscribe;
        onevent(name: 'overflow', fn: EventHandler<OverflowEvent, this>): Unsubscribe;
        onevent(name: '$error', fn: EventHandler<ServerEvent<ProtocolError, '$error'>, this>): Unsubscribe;
        /** '*' receives every server event (not the connection events, nor $welcome, $ack, $heartbeat). */
        onevent(name: '*', fn: EventHandler<AnyServerEvent<Receive>, this>): Unsubscribe;
        /** A server event of the `Receive` map: `e.data` has the map's type for `name`. */
        onevent<Name extends keyof Receive & string>(name: Name, fn: EventHandler<ServerEvent<Receive[Name], Name>, this>): Unsubscribe;
        /** Without an event map, `onevent<T>(name, fn)` states the data's type itself (any by default). */
        onevent<T = any>(name: UnmappedName<Receive>, fn: EventHandler<ServerEvent<T>, this>): Unsubscribe;

        /**
         * Sends `{"event": name, "data": data}`. Protocol 2: while not connected the event is queued and sent, in
         * order, once connected again; it is kept until the server acknowledges it. With a `Send` map, `data` has the
         * map's type for `name`.
         * @returns true if sent or queued; false if dropped: not connected and volatile, protocol 1, or after close().
         * @throws TypeError for an empty name, a name starting with '$', or data JSON cannot encode.
         */
        send<Name extends keyof Send & string>(name: Name, ...args: SendArguments<Send[Name]>): boolean;

        /**
         * Protocol 2: asks the server's request handler for `name` (OnRequest in C#) and resolves with its answer.
         * Sent as a reliable event: queued while offline, resent after a resume, answered exactly once. With a
         * `Requests` map, `data` and the answer have the map's types for `name`.
         * @returns a promise that rejects with a viz.RequestError (see its codes).
         * @throws TypeError for an empty name, a name starting with '$', or data JSON cannot encode; RangeError for a
         * timeoutMs that is not a number of at least 1.
         */
        request<Name extends keyof Requests & string>(name: Name, ...args: RequestArguments<Requests[Name] extends Call ? Requests[Name]['request'] : never>): Promise<Requests[Name] extends Call ? Requests[Name]['response'] : never>;

        /**
         * Protocol 2: answers the server's requests named `name` (VizClient.RequestAsync in C#) with what `fn` returns
         * (or the value its promise resolves to). One handler per name; a server request with none gets 'no_handler'.
         * @throws TypeError for an empty name, a handler that is not a function, or a name that already has a handler.
         */
        onrequest<Name extends keyof Answers & string>(name: Name, fn: RequestHandler<Answers[Name] extends Call ? Answers[Name] : never, this>): Unsubscribe;

        /** Retry with backoff and jitter until connected. No-op unless state is 'closed'. */
        reconnect(): void;

        /** True only in the 'open' state. */
        isConnected(): boolean;

        /** Close with code 1000 and stop reconnecting. Protocol 2: ends the session; queued events are discarded. */
        close(): void;
    }

    /**
     * An attribute bag that serialises exactly like the object it was made from: a copy of its own enumerable
     * properties (an own `__proto__` member, as JSON.parse can make, included). `viz.Data(obj)` works with or without
     * `new`; `instanceof viz.Data` works.
     */
    interface Data {
        [key: string]: any;
    }

    interface DataConstructor {
        new (obj?: { [key: string]: unknown } | null): Data;
        (obj?: { [key: string]: unknown } | null): Data;
        readonly prototype: Data;
    }

    const Data: DataConstructor;

    function isWebSocketSupported(): boolean;
}
