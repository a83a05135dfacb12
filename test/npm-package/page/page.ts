// A page built with a bundler: it imports the packed `vizhtml` package as an ES module, with typed events.
// test/VizHtml.IntegrationTests/Packaging/NpmPackageTests.cs bundles it with esbuild, serves it from a VizHtml server
// and opens it in Chromium; tsc --strict checks it, and each @ts-expect-error line must fail to compile.
import * as viz from 'vizhtml';

interface Pose {
  x: number;
  y: number;
}

/** What the server sends. */
interface FromServer {
  pose: Pose;
  ack: { count: number };
}

/** What this page sends. */
interface FromPage {
  button_click: { count: number };
  ready: null;
}

/** What this page asks the server. */
interface Asks {
  double: viz.Call<number, number>;
}

const socket = new viz.WebSocket<FromServer, FromPage, Asks>();
const show = (id: string, text: string) => {
  const element = document.getElementById(id);
  if (element) element.textContent = text;
};

// The module keeps its `viz` to itself: nothing global appears.
show('global', typeof (globalThis as { viz?: unknown }).viz);
show('supported', String(viz.isWebSocketSupported()));

let opens = 0;
socket.onevent('open', function () {
  show('opens', String(++opens));
  this.send('ready', null);
  if (opens === 1) {
    socket.request('double', 21).then((n) => show('doubled', String(n + 0)));
    socket.request('double', -1).catch((e: unknown) => show('refused', e instanceof viz.RequestError ? e.code : 'not a RequestError'));
  }
});
socket.onevent('pose', (e) => {
  const x: number = e.data.x;
  show('pose', `${x},${e.data.y}`);
  socket.send('button_click', { count: e.data.x + e.data.y });
});
socket.onevent('ack', (e) => {
  show('ack', String(e.data.count));
  // Once: a new session, through reconnect(), which listens to the page's 'online' event while it waits.
  if (opens === 1) {
    socket.close();
    socket.reconnect();
  }
});
socket.onevent('*', (e) => {
  if (e.event === 'ack') {
    const count: number = e.data.count;
    show('last', `ack ${count}`);
  }
});

// The types refuse what the server would not understand. Each line below must be an error.
function mistakes() {
  // @ts-expect-error the data of 'button_click' is { count: number }, not a string
  socket.send('button_click', { count: 'one' });
  // @ts-expect-error 'button_click' needs its data
  socket.send('button_click');
  // @ts-expect-error no event of this page is named 'buton_click'
  socket.send('buton_click', { count: 1 });
  // @ts-expect-error 'pose' is what the server sends, not this page
  socket.send('pose', { x: 1, y: 2 });
  socket.onevent('ack', (e) => {
    // @ts-expect-error the data of 'ack' is { count: number }: no string in it
    const text: string = e.data.count;
    show('never', text);
  });
  // @ts-expect-error the data of the request 'double' is a number
  void socket.request('double', 'two');
  // @ts-expect-error the server sends no event named 'acknowledged'
  socket.onevent('acknowledged', () => {});
  socket.onevent('*', (e) => {
    // @ts-expect-error '*' receives poses too: count is not on every event's data
    show('never', String(e.data.count));
  });
}
void mistakes;
