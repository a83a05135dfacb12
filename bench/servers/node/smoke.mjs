// Smoke test of one benchmark server against the contract: start it, drive the stdin protocol, and check what one
// client of its wire protocol receives.
//   node smoke.mjs <vizhtml|signalr|socketio|ws|bun|kestrel> <cwd> <command> [args...]
// Exits 0 when every check passed; prints one line per check.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const [protocolName, cwd, command, ...commandArgs] = process.argv.slice(2);
const RS = '\x1e';
const SIZE = 64;
const timeoutMs = 15_000;

const protocols = {
  vizhtml: {
    path: '/vizhtml/socket?v=2',
    open: (c) => c.send(JSON.stringify({ event: '$hello', data: { v: 2, token: null, lastSeq: 0, batch: true } })),
    receive(c, text) {
      const parsed = JSON.parse(text);
      let highestSeq = 0;
      for (const envelope of Array.isArray(parsed) ? parsed : [parsed]) {
        highestSeq = Math.max(highestSeq, envelope.seq ?? 0);
        if (envelope.event === '$welcome') c.ready();
        else if (envelope.event === 'b') c.broadcast(envelope.data);
        else if (envelope.event === 'echo') c.echo(envelope.data);
        else if (envelope.event === '$error') c.fail(`server sent $error ${JSON.stringify(envelope.data)}`);
      }
      // Smoke volumes are tiny, so acknowledging every frame that carried numbered events is fine.
      if (highestSeq > 0) c.send(JSON.stringify({ event: '$ack', data: { seq: highestSeq } }));
    },
    echo: (c, payload) => c.send(JSON.stringify({ event: 'echo', data: payload, seq: ++c.sentSeq })),
  },
  signalr: {
    path: '/hub',
    open: (c) => c.send(JSON.stringify({ protocol: 'json', version: 1 }) + RS),
    receive(c, text) {
      for (const record of text.split(RS).filter((r) => r.length > 0)) {
        const message = JSON.parse(record);
        if (message.type === undefined) {
          if (message.error) c.fail(`handshake refused: ${message.error}`);
          else c.ready();
        } else if (message.type === 1 && message.target === 'b') c.broadcast(message.arguments[0]);
        else if (message.type === 1 && message.target === 'echo') c.echo(message.arguments[0]);
        else if (message.type === 7) c.fail(`server closed the hub connection: ${record}`);
      }
    },
    echo: (c, payload) => c.send(JSON.stringify({ type: 1, target: 'Echo', arguments: [payload] }) + RS),
  },
  socketio: {
    path: '/socket.io/?EIO=4&transport=websocket',
    open: () => {},
    receive(c, text) {
      if (text.startsWith('0{')) c.send('40');
      else if (text.startsWith('40')) c.ready();
      else if (text === '2') c.send('3');
      else if (text.startsWith('42')) {
        const [event, payload] = JSON.parse(text.slice(2));
        if (event === 'b') c.broadcast(payload);
        else if (event === 'echo') c.echo(payload);
      }
    },
    echo: (c, payload) => c.send('42' + JSON.stringify(['echo', payload])),
  },
  raw: {
    path: '/ws',
    open: (c) => c.ready(),
    // A bare frame is a broadcast, unless it is the echo payload (which ends in 'e' instead of 'x').
    receive: (c, text) => (text.endsWith('e') ? c.echo(text) : c.broadcast(text)),
    echo: (c, payload) => c.send(payload),
  },
};
const protocol = protocols[protocolName] ?? (['ws', 'bun', 'kestrel'].includes(protocolName) ? protocols.raw : null);
if (!protocol || !command) {
  console.error('usage: node smoke.mjs <vizhtml|signalr|socketio|ws|bun|kestrel> <cwd> <command> [args...]');
  process.exit(2);
}

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${protocolName}: ${what}`);
  if (!ok) failures++;
  return ok;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function withTimeout(promise, what, ms = timeoutMs) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** A payload of the contract: 20 digits of the sender's monotonic clock, then padding. */
function checkPayload(payload) {
  if (typeof payload !== 'string' || payload.length !== SIZE || !/^\d{20}x+$/.test(payload)) return false;
  const ageNs = process.hrtime.bigint() - BigInt(payload.slice(0, 20));
  return ageNs >= 0n && ageNs < 10_000_000_000n; // same CLOCK_MONOTONIC as this process, sent within 10 s
}

const port = await freePort();
const server = spawn(command, commandArgs, { cwd, env: { ...process.env, PORT: String(port) }, stdio: ['pipe', 'pipe', 'pipe'] });
let stderr = '';
server.stderr.on('data', (d) => { stderr += d; });
const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
const pendingLines = [];
let lineWaiter = null;
createInterface({ input: server.stdout }).on('line', (line) => {
  if (lineWaiter) { const w = lineWaiter; lineWaiter = null; w(line); } else pendingLines.push(line);
});
const nextLine = () => withTimeout(new Promise((resolve) => {
  if (pendingLines.length > 0) resolve(pendingLines.shift()); else lineWaiter = resolve;
}), 'a line on the server\'s stdout');
async function ask(commandLine) {
  server.stdin.write(commandLine + '\n');
  return nextLine();
}

let client;
try {
  check((await withTimeout(nextLine(), 'listening', 60_000)) === `listening ${port}`, `prints "listening ${port}"`);
  check((await ask('clients')) === 'clients 0', '"clients" is 0 before anyone connects');

  client = await connect(protocol, port);
  check(true, 'handshake done');
  // Some frameworks count the client just after they answered its handshake; give that a moment.
  let count = '';
  for (let i = 0; i < 50 && count !== 'clients 1'; i++) {
    count = await ask('clients');
    if (count !== 'clients 1') await new Promise((r) => setTimeout(r, 20));
  }
  check(count === 'clients 1', `"clients" is 1 after the handshake (${count})`);

  const sent = await ask(`broadcast 10 ${SIZE}`);
  check(/^sent 10 \d+$/.test(sent), `"broadcast 10 ${SIZE}" answers "sent 10 <ns>" (${sent})`);
  await withTimeout(client.waitFor(10), '10 broadcast messages').catch(() => {});
  check(client.received.length === 10, `10 broadcast messages arrive (${client.received.length})`);
  check(client.received.every(checkPayload), `each is ${SIZE} bytes: a 20-digit monotonic timestamp, then padding`);

  const echoPayload = process.hrtime.bigint().toString().padStart(20, '0') + 'e'.repeat(SIZE - 20);
  const echoed = await withTimeout(client.echoOnce(echoPayload), 'echo').catch(() => null);
  check(echoed === echoPayload, 'echo comes back unchanged');

  const streamed = await withTimeout(ask(`stream 20 1 ${SIZE}`), 'stream');
  check(streamed === 'streamed 20', `"stream 20 1 ${SIZE}" answers "streamed 20" (${streamed})`);
  await withTimeout(client.waitFor(30), '20 streamed messages').catch(() => {});
  check(client.received.length === 30 && client.received.every(checkPayload), `20 streamed messages arrive (${client.received.length - 10})`);

  check((await ask('gc')) === 'gc', '"gc" answers "gc"');
  check((await ask('bogus')).startsWith('error'), 'an unknown command gets one "error ..." line');
  check((await ask('exit')) === 'exit', '"exit" answers "exit"');
  const { code } = await withTimeout(exited, 'process exit');
  check(code === 0, `the process exits with 0 (${code})`);
  check(pendingLines.length === 0, `nothing else on stdout (${JSON.stringify(pendingLines)})`);
} catch (e) {
  check(false, e.message);
  server.kill('SIGKILL');
} finally {
  client?.socket.terminate();
}

if (failures > 0 && stderr) console.log(`--- ${protocolName} server stderr ---\n${stderr}`);
process.exit(failures > 0 ? 1 : 0);

/** Connects one client and completes the protocol's handshake. */
function connect(p, serverPort) {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${serverPort}${p.path}`, { perMessageDeflate: false });
    const c = {
      socket,
      sentSeq: 0,
      received: [],
      waiters: [],
      echoWaiter: null,
      send: (text) => socket.send(text),
      ready: () => resolve(c),
      fail: (why) => { check(false, why); reject(new Error(why)); },
      broadcast(payload) {
        c.received.push(payload);
        c.waiters = c.waiters.filter((w) => !w());
      },
      echo(payload) { c.echoWaiter?.(payload); },
      waitFor: (n) => new Promise((done) => {
        const w = () => (c.received.length >= n ? (done(), true) : false);
        if (!w()) c.waiters.push(w);
      }),
      echoOnce: (payload) => new Promise((done) => {
        c.echoWaiter = done;
        p.echo(c, payload);
      }),
    };
    socket.on('open', () => p.open(c));
    socket.on('message', (data, isBinary) => {
      if (isBinary) c.fail('binary frame from the server');
      else p.receive(c, data.toString());
    });
    socket.on('error', reject);
    socket.on('close', (code) => reject(new Error(`socket closed (${code})`)));
  }), 'connect and handshake');
}
