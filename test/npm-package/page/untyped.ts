// Type-checked, not bundled: without event maps the module reads as the global script does in JavaScript.
import * as viz from 'vizhtml';
import { Data, WebSocket, type ConnectionState, type ServerEvent, type WebSocketOptions } from 'vizhtml';

interface Pose {
  x: number;
}

export function untyped(): ConnectionState {
  const options: WebSocketOptions = { autoReconnect: true, offlineQueue: { maxMessages: 10 } };
  const socket = new WebSocket('ws://localhost:8080/vizhtml/socket', options);
  socket.onevent('anything', (e) => console.log(e.data.any.member));
  socket.onevent<Pose>('pose', (e) => console.log(e.data.x.toFixed(2)));
  socket.onevent('close', function (e) {
    if (e.code !== 1000) this.reconnect();
  });
  socket.onevent('*', (e: ServerEvent) => console.log(e.event));
  socket.send('button_click', viz.Data({ count: 1 }));
  socket.send('value', 42);
  socket.send('nothing');
  socket.send('volatile', new Data({ at: Date.now() }), { volatile: true });
  return socket.state;
}
