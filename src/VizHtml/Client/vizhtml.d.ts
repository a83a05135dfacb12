// Type declarations for vizhtml.js (VizHtml wire protocol version 1).
//
// vizhtml.js is a classic script that defines a global `viz`, so this file is
// a global declaration (no imports or exports). Reference it with
//   /// <reference path="vizhtml.d.ts" />
// or list it in tsconfig "files"/"include".

declare namespace viz {
    /**
     * 'connecting'   first attempt (from the constructor) in flight
     * 'open'         connected
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
     */
    type SendData = string | number | boolean | null | undefined | object;

    interface ReconnectOptions {
        /** Delay before the first reconnect attempt. Default 500. */
        initialDelayMs?: number;
        /** Ceiling for the delay. Default 5000. */
        maxDelayMs?: number;
        /** Growth per failed attempt, >= 1. Default 2. */
        factor?: number;
    }

    interface WebSocketOptions {
        reconnect?: ReconnectOptions;
        /** Call reconnect() automatically after 'close' handlers run. Default false. */
        autoReconnect?: boolean;
    }

    /** A message event from the server. `data` is null when the server sent none. */
    interface ServerEvent<T = any> {
        event: string;
        data: T;
    }

    interface OpenEvent {
        event: 'open';
    }

    interface CloseEvent {
        event: 'close';
        code: number;
        reason: string;
        wasClean: boolean;
    }

    interface ErrorEvent {
        event: 'error';
    }

    /** Payload of the reserved '$error' event: the server rejected something we sent. */
    interface ProtocolError {
        code: string;
        message: string;
    }

    type EventHandler<E> = (this: WebSocket, e: E) => void;

    /** Call to remove the handler it was returned for. Safe to call more than once. */
    type Unsubscribe = () => void;

    /** A connection to the VizHtml server that speaks in named events. */
    class WebSocket {
        /**
         * Connects immediately.
         * @param url defaults to ws(s)://<page host>/vizhtml/socket, keeping the page's `key` query parameter
         */
        constructor(url?: string, options?: WebSocketOptions);

        readonly url: string;
        readonly state: ConnectionState;

        onevent(name: 'open', fn: EventHandler<OpenEvent>): Unsubscribe;
        onevent(name: 'close', fn: EventHandler<CloseEvent>): Unsubscribe;
        onevent(name: 'error', fn: EventHandler<ErrorEvent>): Unsubscribe;
        onevent(name: '$error', fn: EventHandler<ServerEvent<ProtocolError>>): Unsubscribe;
        /** '*' receives every server event (not 'open', 'close' or 'error'). */
        onevent<T = any>(name: string, fn: EventHandler<ServerEvent<T>>): Unsubscribe;

        /**
         * Sends `{"event": name, "data": data}`.
         * @returns false if not connected; the message is dropped.
         * @throws TypeError for an empty name, a name starting with '$', or data JSON cannot encode.
         */
        send(name: string, data?: SendData): boolean;

        /** Retry with backoff and jitter until connected. No-op unless state is 'closed'. */
        reconnect(): void;

        /** True only in the 'open' state. */
        isConnected(): boolean;

        /** Close with code 1000 and stop reconnecting. */
        close(): void;
    }

    /** An attribute bag that serialises exactly like the object it was made from. */
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
