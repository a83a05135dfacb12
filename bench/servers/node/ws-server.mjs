// Node `ws` peer server. Run: PORT=9001 node --expose-gc ws-server.mjs
// ws://127.0.0.1:PORT/ws; a broadcast is a bare text frame; any text frame a client sends comes back to it.
import { WebSocketServer, WebSocket } from 'ws';
import { portFromEnv, serveControl } from './control.mjs';

if (typeof global.gc !== 'function') {
  console.error('start node with --expose-gc (the gc command needs it)');
  process.exit(2);
}

const port = portFromEnv();
const wss = new WebSocketServer({ host: '127.0.0.1', port, path: '/ws', perMessageDeflate: false });

wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on('error', () => {}); // a client that vanishes is not the server's problem
});

wss.on('listening', () => {
  console.log(`listening ${port}`);
  serveControl({
    clients: () => wss.clients.size,
    broadcast: (payload) => {
      // The ws README's broadcast loop, with the string encoded once instead of once per client.
      const bytes = Buffer.from(payload);
      for (const client of wss.clients) {
        if (client.readyState === WebSocket.OPEN) {
          client.send(bytes, { binary: false });
        }
      }
    },
    gc: () => global.gc(),
    close: () => new Promise((resolve) => {
      // wss.close() stops accepting but waits for open connections, so drop them.
      wss.close(() => resolve());
      for (const client of wss.clients) client.terminate();
    }),
  });
});
