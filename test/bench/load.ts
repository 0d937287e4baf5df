/**
 * The load generator, run as its own process so its CPU is not the relay's:
 *
 *   node dist/test/bench/load.js --url http://127.0.0.1:9096/write?db=bench --lines 5000 --connections 16 \
 *        --duration 10 [--seed 1] [--unique [--ts-start NS]] [--engine autocannon|wrk]
 *
 * It POSTs a generated line-protocol body (bodies.ts) over keep-alive connections for `duration` seconds and prints
 * one JSON line (LoadResult, see loadgen.ts) on stdout. `--unique` gives every request fresh timestamps so that
 * no two points sent are the same (needed when InfluxDB counts what landed), from BASE_TIME_NS + NS on in steps of
 * 1 µs; it needs the autocannon engine.
 * The wrk engine (Debian `wrk`, C, one thread) costs less CPU for the same rate but can only repeat one body.
 */
import autocannon from 'autocannon';
import type { Request as AutocannonRequest } from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateBody, restamp, STEP_NS } from './bodies.js';
import type { LoadResult } from './loadgen.js';
import { recordPid } from './pidfile.js';
import { childrenCpuSeconds } from './proc.js';

const HEADERS = { 'content-type': 'text/plain; charset=utf-8' };

interface Args {
  url: string;
  lines: number;
  seed: number;
  connections: number;
  duration: number;
  unique: boolean;
  tsStartNs: number;
  engine: 'autocannon' | 'wrk';
}

function args(): Args {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      lines: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      connections: { type: 'string', default: '16' },
      duration: { type: 'string', default: '10' },
      unique: { type: 'boolean', default: false },
      'ts-start': { type: 'string', default: '0' },
      engine: { type: 'string', default: 'autocannon' },
    },
  });
  if (!values.url) throw new Error('load: --url is required');
  if (values.engine !== 'autocannon' && values.engine !== 'wrk') throw new Error('load: --engine is autocannon or wrk');
  if (values.unique && values.engine === 'wrk') throw new Error('load: --unique needs --engine autocannon');
  return {
    url: values.url,
    lines: Number(values.lines),
    seed: Number(values.seed),
    connections: Number(values.connections),
    duration: Number(values.duration),
    unique: values.unique ?? false,
    tsStartNs: Number(values['ts-start']),
    engine: values.engine,
  };
}

async function withAutocannon(a: Args): Promise<Omit<LoadResult, 'engine' | 'lines' | 'bodyBytes'>> {
  const g = generateBody(a.lines, a.seed, STEP_NS);
  let next = 0;
  const requests = a.unique
    ? [
        {
          // Runs as each request is built; the builder copies the body at once, so patching the shared buffer is safe.
          setupRequest: (req: AutocannonRequest): AutocannonRequest => {
            restamp(g, a.tsStartNs + next++ * a.lines * STEP_NS, STEP_NS);
            return { ...req, body: g.body };
          },
        },
      ]
    : undefined;
  const cpu0 = process.cpuUsage();
  const r = await autocannon({
    url: a.url,
    method: 'POST',
    headers: HEADERS,
    body: g.body,
    connections: a.connections,
    duration: a.duration,
    pipelining: 1,
    timeout: 60,
    ...(requests ? { requests } : {}),
  });
  const cpu = process.cpuUsage(cpu0);
  return {
    durationS: r.duration,
    ok: r['2xx'],
    sent: r.requests.sent,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    loadCpuS: (cpu.user + cpu.system) / 1e6,
  };
}

const WRK_LUA = `
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/plain; charset=utf-8"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests":%d,"durationUs":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

async function withWrk(a: Args): Promise<Omit<LoadResult, 'engine' | 'lines' | 'bodyBytes'>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-wrk-'));
  try {
    writeFileSync(path.join(dir, 'body.lp'), generateBody(a.lines, a.seed, STEP_NS).body);
    writeFileSync(path.join(dir, 'post.lua'), WRK_LUA);
    const cpu0 = childrenCpuSeconds();
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.env.WRK_BIN ?? '/usr/bin/wrk',
        ['-t1', `-c${a.connections}`, `-d${a.duration}s`, '--timeout', '60s', '-s', path.join(dir, 'post.lua'), a.url],
        { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_BODY_FILE: path.join(dir, 'body.lp') } },
      );
      recordPid(child.pid, 'wrk');
      // If this process is stopped, wrk must not outlive it.
      const stop = (): void => {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        process.exit(143);
      };
      process.once('SIGTERM', stop).once('SIGINT', stop);
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
    });
    const m = /^WRK_RESULT (.+)$/m.exec(out);
    if (!m?.[1]) throw new Error(`wrk printed no result:\n${out}`);
    const w = JSON.parse(m[1]) as Record<string, number>;
    const errors = (w.connect ?? 0) + (w.read ?? 0) + (w.write ?? 0);
    const non2xx = w.status ?? 0; // wrk counts statuses > 399 only
    return {
      durationS: (w.durationUs ?? 0) / 1e6,
      ok: (w.requests ?? 0) - non2xx,
      sent: w.requests ?? 0,
      non2xx,
      errors,
      timeouts: w.timeout ?? 0,
      latencyP50Ms: (w.p50Us ?? 0) / 1000,
      latencyP99Ms: (w.p99Us ?? 0) / 1000,
      loadCpuS: childrenCpuSeconds() - cpu0,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const a = args();
  const bodyBytes = generateBody(a.lines, a.seed, STEP_NS).body.length;
  const r = a.engine === 'wrk' ? await withWrk(a) : await withAutocannon(a);
  const result: LoadResult = { engine: a.engine, lines: a.lines, bodyBytes, ...r };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`load: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
