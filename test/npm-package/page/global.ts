// Type-checked, not bundled: the global script as a side-effect import (`vizhtml/vizhtml.js`, the served file), typed by
// the same declarations as the global `viz` they describe, event maps included.
import 'vizhtml/vizhtml.js';

export function global(): void {
  const socket = new viz.WebSocket<{ pose: { x: number } }>();
  socket.onevent('pose', (e) => console.log(e.data.x.toFixed(2)));
  socket.onevent('pose', (e) => {
    // @ts-expect-error x is a number
    const text: string = e.data.x;
    console.log(text);
  });
  socket.send('pose', { x: 1 });
  new viz.WebSocket().send('anything', viz.Data({ at: 1 }));
}
