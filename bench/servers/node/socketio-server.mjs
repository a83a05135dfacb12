// socket.io peer server. Run: PORT=9002 node --expose-gc socketio-server.mjs
// ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket; broadcast is io.emit('b', payload); 'echo' is sent back.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { portFromEnv, serveControl } from './control.mjs';

if (typeof global.gc !== 'function') {
  console.error('start node with --expose-gc (the gc command needs it)');
  process.exit(2);
}

const port = portFromEnv();
const httpServer = createServer();
// Defaults otherwise (both transports allowed, pingInterval 25 s); compression is off as everywhere in the suite.
const io = new Server(httpServer, { perMessageDeflate: false, httpCompression: false });

io.on('connection', (socket) => {
  socket.on('echo', (payload) => socket.emit('echo', payload));
});

httpServer.listen(port, '127.0.0.1', () => {
  console.log(`listening ${port}`);
  serveControl({
    // Sockets connected to the main namespace: the client has sent `40` and got `40{...}` back.
    clients: () => io.of('/').sockets.size,
    broadcast: (payload) => io.emit('b', payload),
    gc: () => global.gc(),
    close: () => new Promise((resolve) => {
      io.close(() => resolve());
    }),
  });
});
