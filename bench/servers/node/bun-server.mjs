// Bun (µWebSockets) peer server. Run: PORT=9003 node_modules/.bin/bun bun-server.mjs
// ws://127.0.0.1:PORT/ws; every client subscribes to one topic and a broadcast is server.publish on it.
import { portFromEnv, serveControl } from './control.mjs';

const topic = 'b';
const port = portFromEnv();
let clients = 0;

const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch(request, srv) {
    if (new URL(request.url).pathname === '/ws' && srv.upgrade(request)) {
      return undefined;
    }
    return new Response('not found', { status: 404 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      ws.subscribe(topic);
      clients++;
    },
    message(ws, message) {
      ws.send(message); // a string for a text frame, so it goes back as text
    },
    close() {
      clients--;
    },
  },
});

console.log(`listening ${server.port}`);
serveControl({
  clients: () => clients,
  broadcast: (payload) => server.publish(topic, payload),
  gc: () => Bun.gc(true),
  close: () => server.stop(true),
});
