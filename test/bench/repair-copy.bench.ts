/**
 * Copy speed of `influx-relay repair` between two local influxd, against influxd's own write speed.
 * Plain script: `node dist/test/bench/repair-copy.bench.js [points, default 500000]`.
 *
 * 1. Writes N points (1000 series of a Telegraf-like measurement: 3 tags, 4 floats, 1 integer, 1 string field,
 *    ns timestamps over 2 days) to influxd A by POST /write, 5000 lines a request, two requests in flight: the
 *    ceiling, "influxd's own write speed".
 * 2. Repairs an empty influxd B from A with repairWindows() (what the CLI runs; schema, reads, writes and the
 *    per-window count check), 1h windows, concurrency 1 and 2.
 * Prints points/s of each and the ratio.
 */
import { cpus } from 'node:os';
import { InfluxQLClient } from '../../src/integrity/influxql-client.js';
import { ensureSchema, planRepair, repairWindows } from '../../src/integrity/repair.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';

const N = Number(process.argv[2] ?? 500_000);
const SERIES = 1000;
const BATCH = 5000;
const T0 = ((BigInt(Date.now()) * 1_000_000n) / 3_600_000_000_000n - 48n) * 3_600_000_000_000n;
const STEP = (48n * 3_600_000_000_000n) / BigInt(N / SERIES);

function lines(): string[] {
  const out: string[] = [];
  for (let p = 0; p < N / SERIES; p++) {
    const t = T0 + BigInt(p) * STEP + 17n;
    for (let s = 0; s < SERIES; s++) {
      out.push(
        `cpu,host=server${s % 100},cpu=cpu${s % 10},dc=dc${s % 3} usage_user=${(s * 7.31 + p) % 100},usage_system=${(p * 1.7) % 50},` +
          `usage_idle=${(s + p) % 97}.5,usage_iowait=0.25,procs=${s * 10 + p}i,state="running ${s}" ${t + BigInt(s)}`,
      );
    }
  }
  return out;
}

async function writeAll(x: Influxd, all: string[]): Promise<number> {
  const client = new InfluxQLClient(x.url);
  const t = process.hrtime.bigint();
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < all.length; i += BATCH) {
    const p: Promise<void> = client.write('bench', '', all.slice(i, i + BATCH).join('\n')).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 2) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  await client.close();
  return s;
}

async function copy(from: Influxd, to: Influxd, concurrency: number): Promise<{ s: number; points: number }> {
  const source = { name: 'a', client: new InfluxQLClient(from.url) };
  const target = { name: 'b', client: new InfluxQLClient(to.url) };
  const t = process.hrtime.bigint();
  const plan = await planRepair({ source, target });
  await ensureSchema(source.client, target.client, plan.databases);
  const r = await repairWindows({ source, target, windows: plan.windows, concurrency });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.failed.length > 0) throw new Error(`${r.failed.length} windows short after the copy`);
  await Promise.all([source.client.close(), target.client.close()]);
  return { s, points: r.points };
}

async function main(): Promise<void> {
  const [a, b, c] = await Promise.all([startInfluxd(), startInfluxd(), startInfluxd()]);
  try {
    await a.query('CREATE DATABASE bench');
    const all = lines();
    const writeS = await writeAll(a, all);
    const writeRate = N / writeS;
    console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, node ${process.version}, ${N} points`);
    console.log(`influxd write (POST /write, ${BATCH} lines, 2 in flight): ${writeS.toFixed(2)} s, ${Math.round(writeRate)} points/s`);
    for (const [target, concurrency] of [[b, 1], [c, 2]] as const) {
      const { s, points } = await copy(a, target, concurrency);
      if (points !== N) throw new Error(`copied ${points} of ${N}`);
      console.log(
        `repair A -> empty (concurrency ${concurrency}, incl. compare + per-window check): ${s.toFixed(2)} s, ` +
          `${Math.round(N / s)} points/s, ratio ${(N / s / writeRate).toFixed(2)}`,
      );
    }
  } finally {
    await Promise.all([a.destroy(), b.destroy(), c.destroy()]);
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
