// The stdin/stdout control protocol every benchmark server speaks (bench contract, "Server process contract"),
// shared by the Node servers and the Bun server. Commands are handled one at a time, in order; each gets one line.
import { createInterface } from 'node:readline';

/** Reads PORT from the environment or exits: the load generator always sets it. */
export function portFromEnv() {
  const port = Number.parseInt(process.env.PORT ?? '', 10);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error('PORT must be set to a TCP port (1..65535)');
    process.exit(2);
  }
  return port;
}

/**
 * The monotonic clock in ns. Node's hrtime is CLOCK_MONOTONIC, as .NET's Stopwatch on Linux, so timestamps compare
 * across processes. Bun's hrtime counts from its own start instead, so under Bun the clock is read from libc.
 * @type {() => bigint}
 */
const monotonicNs = process.versions.bun ? await libcMonotonicClock() : () => process.hrtime.bigint();

async function libcMonotonicClock() {
  const { dlopen, FFIType, ptr } = await import('bun:ffi');
  const CLOCK_MONOTONIC = 1;
  const libc = dlopen('libc.so.6', { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
  const timespec = new BigInt64Array(2); // { tv_sec, tv_nsec } on 64-bit Linux
  const timespecPtr = ptr(timespec);
  return () => {
    libc.symbols.clock_gettime(CLOCK_MONOTONIC, timespecPtr);
    return timespec[0] * 1_000_000_000n + timespec[1];
  };
}

/**
 * The payload of one benchmark message: the monotonic clock in ns as 20 zero-padded digits, then 'x' up to sizeBytes.
 * Payloads are never shorter than the 20-digit timestamp.
 * @param {string} padding 'x' repeated sizeBytes - 20 times, built once per command
 */
export function timestampedPayload(padding) {
  return monotonicNs().toString().padStart(20, '0') + padding;
}

function paddingFor(sizeBytes) {
  return 'x'.repeat(Math.max(0, sizeBytes - 20));
}

/**
 * Serves the control protocol on stdin until `exit` (or stdin closes).
 * @param {{ clients: () => number, broadcast: (payload: string) => void, gc: () => void, close: () => Promise<void> | void }} server
 */
export async function serveControl(server) {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    const [command, ...args] = line.trim().split(/\s+/);
    const numbers = args.map((a) => Number.parseInt(a, 10));
    if (command === '') {
      continue;
    } else if (command === 'clients') {
      reply(`clients ${server.clients()}`);
    } else if (command === 'broadcast' && numbers.length === 2) {
      const [count, sizeBytes] = numbers;
      const padding = paddingFor(sizeBytes);
      const started = monotonicNs();
      for (let i = 0; i < count; i++) {
        server.broadcast(timestampedPayload(padding));
      }
      reply(`sent ${count} ${monotonicNs() - started}`);
    } else if (command === 'stream' && numbers.length === 3) {
      const [hz, seconds, sizeBytes] = numbers;
      reply(`streamed ${await stream(server, hz, seconds, paddingFor(sizeBytes))}`);
    } else if (command === 'gc') {
      server.gc();
      reply('gc');
    } else if (command === 'exit') {
      await server.close();
      reply('exit');
      process.exit(0);
    } else {
      reply(`error unknown command: ${line}`);
    }
  }

  // stdin closed: the load generator is gone, so nobody will ever send `exit`.
  await server.close();
  process.exit(0);
}

function reply(line) {
  process.stdout.write(line + '\n');
}

// One broadcast per tick for hz * seconds ticks. Each tick is scheduled against the start time, so timer lateness
// does not accumulate (setInterval would round 16.67 ms to whole milliseconds and drift).
function stream(server, hz, seconds, padding) {
  const ticks = Math.round(hz * seconds);
  const periodNs = 1e9 / hz;
  const started = monotonicNs();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = () => {
      server.broadcast(timestampedPayload(padding));
      sent++;
      if (sent >= ticks) {
        resolve(sent);
        return;
      }
      const dueNs = (sent + 1) * periodNs;
      const elapsedNs = Number(monotonicNs() - started);
      setTimeout(tick, Math.max(0, (dueNs - elapsedNs) / 1e6));
    };
    if (ticks <= 0) {
      resolve(0);
    } else {
      setTimeout(tick, periodNs / 1e6);
    }
  });
}
