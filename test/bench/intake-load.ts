/**
 * Load generator for the relay's [[udp]] and [[tcp]] listeners, run as its own process (its CPU is not the relay's):
 *
 *   node dist/test/bench/intake-load.js --proto udp|tcp --port 9097 [--connections 4] --duration 8 [--seed 1]
 *
 * UDP: datagrams of whole Telegraf-like lines (bodies.ts), each at most --datagram bytes (default 1400), sent as fast
 * as the socket takes them, a bounded number of sends in flight (UDP has no backpressure: what the relay cannot read
 * in time the kernel drops). TCP: --connections sockets each stream a 1 MB chunk of lines over and over, waiting for
 * 'drain' when the socket buffer is full (backpressure), then end the stream so every byte written reaches the relay.
 * Prints one JSON line (IntakeLoadResult, see intake-loadgen.ts) on stdout.
 */
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { generateBody } from './bodies.js';
import type { IntakeLoadResult } from './intake-loadgen.js';

const { values } = parseArgs({
  options: {
    proto: { type: 'string' },
    port: { type: 'string' },
    connections: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    datagram: { type: 'string', default: '1400' },
  },
});
const port = Number(values.port);
const durationMs = Number(values.duration) * 1000;
const seed = Number(values.seed);
if (values.proto !== 'udp' && values.proto !== 'tcp') throw new Error('intake-load: --proto is udp or tcp');
if (!Number.isInteger(port) || port <= 0) throw new Error('intake-load: --port is required');

/** Whole lines of a generated body, each with its newline. */
function lines(n: number): Buffer[] {
  const { body } = generateBody(n, seed);
  const out: Buffer[] = [];
  for (let start = 0; start < body.length; ) {
    const end = body.indexOf(0x0a, start) + 1;
    out.push(body.subarray(start, end));
    start = end;
  }
  return out;
}

/** Lines packed into datagrams of at most `max` bytes; the point count of each datagram alongside. */
function datagrams(max: number): { bufs: Buffer[]; points: number[] } {
  const bufs: Buffer[] = [];
  const points: number[] = [];
  let cur: Buffer[] = [];
  let size = 0;
  for (const l of lines(20_000)) {
    if (size + l.length > max && cur.length > 0) {
      bufs.push(Buffer.concat(cur));
      points.push(cur.length);
      cur = [];
      size = 0;
    }
    cur.push(l);
    size += l.length;
  }
  return { bufs, points };
}

async function udp(): Promise<Omit<IntakeLoadResult, 'durationS' | 'cpuS'>> {
  const { bufs, points } = datagrams(Number(values.datagram));
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(port, '127.0.0.1', () => resolve());
  });
  let errors = 0;
  sock.removeAllListeners('error');
  sock.on('error', () => errors++);
  let sent = 0;
  let pts = 0;
  let bytes = 0;
  let i = 0;
  const deadline = performance.now() + durationMs;
  // A few sends in flight keep the socket busy without queueing unbounded work in libuv.
  await new Promise<void>((resolve) => {
    let inFlight = 0;
    let done = false;
    const pump = (): void => {
      while (inFlight < 32 && !done) {
        if ((sent & 255) === 0 && performance.now() >= deadline) {
          done = true;
          break;
        }
        const k = i++ % bufs.length;
        const b = bufs[k] as Buffer;
        inFlight++;
        sent++;
        pts += points[k] as number;
        bytes += b.length;
        sock.send(b, (err) => {
          inFlight--;
          if (err) errors++;
          if (!done) pump();
          else if (inFlight === 0) resolve();
        });
      }
      if (done && inFlight === 0) resolve();
    };
    pump();
  });
  sock.close();
  return { proto: 'udp', connections: 1, messages: sent, points: pts, bytes, errors, linesPerMessage: pts / Math.max(1, sent) };
}

async function tcp(): Promise<Omit<IntakeLoadResult, 'durationS' | 'cpuS'>> {
  const ls = lines(5000);
  const chunk = Buffer.concat(ls);
  const conns = Number(values.connections);
  const deadline = performance.now() + durationMs;
  let chunks = 0;
  let errors = 0;
  const one = async (): Promise<void> => {
    const s: Socket = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    s.on('error', () => errors++);
    while (performance.now() < deadline) {
      chunks++;
      if (!s.write(chunk)) await new Promise<void>((r) => s.once('drain', r));
    }
    // end() flushes what is buffered; 'close' after the relay closes its side or we are done writing.
    await new Promise<void>((resolve) => {
      s.end(() => resolve());
    });
    s.destroy();
  };
  await Promise.all(Array.from({ length: conns }, one));
  return {
    proto: 'tcp',
    connections: conns,
    messages: chunks,
    points: chunks * ls.length,
    bytes: chunks * chunk.length,
    errors,
    linesPerMessage: ls.length,
  };
}

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const r = values.proto === 'udp' ? await udp() : await tcp();
const durationS = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const result: IntakeLoadResult = { ...r, durationS, cpuS: (cpu.user + cpu.system) / 1e6 };
process.stdout.write(JSON.stringify(result) + '\n');
