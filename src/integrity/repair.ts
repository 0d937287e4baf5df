/**
 * Makes a replica whole from another: copies the points of given windows from a source to a target as line
 * protocol, creating missing databases and retention policies first.
 *
 * - Idempotent: a point written again (same series, time) is the same point, so a repeated or interrupted repair
 *   is harmless. It never deletes: points only on the target stay (`--both` copies them the other way).
 * - A window is read with one chunked `SELECT * ... GROUP BY *` per measurement (epoch=ns), turned into lines by
 *   repair-lines.ts with the field types of SHOW FIELD KEYS, and written in batches of `batchLines`, two writes in
 *   flight so that reading and writing overlap.
 * - After a window is written, its counts per field are compared: the target must have at least the source's.
 *   A window then goes to the checkpoint (repair-checkpoint.ts) and is skipped by a restarted repair.
 * - `maxPointsPerSecond` paces the writes (a mean rate since the start).
 */
import PQueue from 'p-queue';
import { parseGoDuration } from '../config/duration.js';
import { qualified, quoteIdent, timeWhere, type InfluxQLClient } from './influxql-client.js';
import { Checkpoint, checkpointKey } from './repair-checkpoint.js';
import { seriesLines } from './repair-lines.js';
import { compareReplicas, DEFAULT_WINDOW_NS, type Replica } from './verify.js';
import { fieldTypes, listDatabases, listMeasurements, listRetentionPolicies, type RetentionPolicy } from './verify-schema.js';

/** Points of [startNs, endNs) of one (db, rp), one measurement or (undefined) all of them. */
export interface CopyWindow {
  readonly db: string;
  readonly rp: string;
  readonly measurement?: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
}

export interface RepairProgress {
  readonly windowsDone: number;
  readonly windowsTotal: number;
  readonly points: number;
  readonly elapsedMs: number;
  /** Estimated time left, from the mean time per window so far. */
  readonly etaMs: number | undefined;
}

export interface WindowOutcome {
  readonly window: CopyWindow;
  readonly points: number;
  /** Field counts the target lacks after the write (a failed window), or undefined. */
  readonly short?: string;
  /** The target holds more points than the source here (they stay; --both copies them back). */
  readonly extra?: boolean;
}

export interface RepairResult {
  readonly windows: number;
  readonly copied: number;
  /** Skipped because the checkpoint holds them. */
  readonly skipped: number;
  readonly points: number;
  readonly failed: readonly WindowOutcome[];
  readonly extra: readonly WindowOutcome[];
  readonly elapsedMs: number;
}

export interface RepairOptions {
  readonly source: Replica;
  readonly target: Replica;
  readonly windows: readonly CopyWindow[];
  readonly dryRun?: boolean;
  /** Checkpoint file; none: no resume. */
  readonly checkpointFile?: string;
  readonly maxPointsPerSecond?: number;
  readonly batchLines?: number;
  /** Windows copied at once (default 1). */
  readonly concurrency?: number;
  readonly onProgress?: (p: RepairProgress) => void;
  readonly onWindow?: (o: WindowOutcome) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An InfluxQL duration literal for a Go duration as SHOW RETENTION POLICIES prints it ("0s": INF). */
function influxqlDuration(goDuration: string): string {
  const ms = parseGoDuration(goDuration);
  if (ms === undefined) throw new Error(`unexpected duration ${JSON.stringify(goDuration)}`);
  return ms === 0 ? 'INF' : `${Math.round(ms * 1000)}u`;
}

const rpClause = (rp: RetentionPolicy): string =>
  `DURATION ${influxqlDuration(rp.duration)} REPLICATION ${rp.replicaN} SHARD DURATION ${influxqlDuration(rp.shardGroupDuration)}`;

/**
 * The statements that give the target every database and retention policy of the source among `dbs` (same
 * duration, replication, shard duration and default flag); runs them unless dryRun. Returns them.
 */
export async function ensureSchema(source: InfluxQLClient, target: InfluxQLClient, dbs: readonly string[], dryRun = false): Promise<string[]> {
  const statements: string[] = [];
  const targetDbs = new Set(await listDatabases(target));
  for (const db of dbs) {
    const rps = await listRetentionPolicies(source, db);
    const def = rps.find((rp) => rp.isDefault);
    const have = targetDbs.has(db) ? await listRetentionPolicies(target, db) : [];
    if (!targetDbs.has(db)) {
      // WITH ... NAME creates the source's default rp instead of an 'autogen' the source may not have.
      statements.push(`CREATE DATABASE ${quoteIdent(db)}` + (def ? ` WITH ${rpClause(def)} NAME ${quoteIdent(def.name)}` : ''));
      if (def) have.push(def);
    }
    for (const rp of rps) {
      const there = have.find((h) => h.name === rp.name);
      if (there === undefined) {
        statements.push(`CREATE RETENTION POLICY ${quoteIdent(rp.name)} ON ${quoteIdent(db)} ${rpClause(rp)}${rp.isDefault ? ' DEFAULT' : ''}`);
      } else if (rp.isDefault && !there.isDefault) {
        statements.push(`ALTER RETENTION POLICY ${quoteIdent(rp.name)} ON ${quoteIdent(db)} DEFAULT`);
      }
    }
  }
  if (!dryRun) for (const s of statements) await target.query(s);
  return statements;
}

const alignDown = (t: bigint, w: bigint): bigint => {
  const r = t % w;
  return r < 0n ? t - r - w : t - r;
};

/** Splits windows at multiples of windowNs: units of progress and of the checkpoint that a restart finds again. */
export function splitWindows(windows: readonly CopyWindow[], windowNs: bigint = DEFAULT_WINDOW_NS): CopyWindow[] {
  const out: CopyWindow[] = [];
  for (const w of windows) {
    for (let a = w.startNs; a < w.endNs; ) {
      const next = alignDown(a, windowNs) + windowNs;
      const b = next < w.endNs ? next : w.endNs;
      out.push({ ...w, startNs: a, endNs: b });
      a = b;
    }
  }
  return out;
}

/** Points a planned unit of work aims at when the data is sparse (see planRepair). */
const COPY_UNIT_POINTS = 100_000;
const MAX_UNIT_WINDOWS = 24n;
/** Writes in flight per window: the next batch is read and encoded meanwhile. */
const WRITES_IN_FLIGHT = 2;

export interface PlanOptions {
  readonly source: Replica;
  readonly target: Replica;
  readonly databases?: readonly string[];
  readonly startNs?: bigint;
  readonly endNs?: bigint;
  readonly windowNs?: bigint;
  readonly deep?: boolean;
  readonly concurrency?: number;
  readonly queue?: PQueue;
  /** Points a unit of work aims at when the data is sparse (default 100,000; 1: one window per unit). */
  readonly unitPoints?: number;
}

/**
 * What the target lacks: the windows where verify finds a difference and the source has points, split at
 * multiples of windowNs (one window, or up to 24 when sparse), plus the databases to create. Windows where only
 * the target has points are not copied.
 */
export async function planRepair(opts: PlanOptions): Promise<{ databases: string[]; windows: CopyWindow[] }> {
  const diffs = await compareReplicas({
    replicas: [opts.source, opts.target],
    ...(opts.databases ? { databases: opts.databases } : {}),
    ...(opts.startNs !== undefined ? { startNs: opts.startNs } : {}),
    ...(opts.endNs !== undefined ? { endNs: opts.endNs } : {}),
    ...(opts.windowNs !== undefined ? { windowNs: opts.windowNs } : {}),
    ...(opts.queue ? { queue: opts.queue } : {}),
    deep: opts.deep ?? false,
    concurrency: opts.concurrency ?? 2,
  });
  const windowNs = opts.windowNs ?? DEFAULT_WINDOW_NS;
  const windows: CopyWindow[] = [];
  const databases = new Set<string>();
  for (const d of diffs) {
    if (d.kind === 'database' || d.kind === 'retention-policy') {
      if (d.present?.[0]) databases.add(d.db);
    } else if (d.kind === 'window' && (d.counts?.[0] ?? 0) > 0) {
      databases.add(d.db);
      // Sparse data: a unit of work of about COPY_UNIT_POINTS, a whole number of windows, so that the per-window
      // costs (one query per measurement, the count check) do not dominate.
      const span = d.endNs! - d.startNs!;
      const factor = (BigInt(opts.unitPoints ?? COPY_UNIT_POINTS) * span) / (BigInt(d.counts![0]!) * windowNs);
      const unit = windowNs * (factor < 1n ? 1n : factor > MAX_UNIT_WINDOWS ? MAX_UNIT_WINDOWS : factor);
      windows.push(...splitWindows([{ db: d.db, rp: d.rp!, measurement: d.measurement!, startNs: d.startNs!, endNs: d.endNs! }], unit));
    }
  }
  return { databases: [...databases].sort(), windows };
}

async function countFields(client: InfluxQLClient, w: CopyWindow, measurement: string): Promise<Record<string, number>> {
  const series = await client.query(`SELECT count(*) FROM ${qualified(w.rp, measurement)} WHERE ${timeWhere(w.startNs, w.endNs)}`, w.db);
  const counts: Record<string, number> = {};
  const s = series[0];
  s?.columns.forEach((c, i) => {
    const v = s.values[0]?.[i];
    if (i > 0 && typeof v === 'number') counts[c.replace(/^count_/, '')] = v;
  });
  return counts;
}

/** Copies windows from source to target; see the file header. Resolves with the outcome; throws on I/O errors. */
export async function repairWindows(opts: RepairOptions): Promise<RepairResult> {
  const { source, target } = opts;
  const batchLines = opts.batchLines ?? 5000;
  const t0 = Date.now();
  const checkpoint = opts.checkpointFile !== undefined && !opts.dryRun ? await Checkpoint.open(opts.checkpointFile) : undefined;
  const key = (w: CopyWindow) => checkpointKey({ source: source.client.origin, target: target.client.origin, ...w });
  const todo = opts.windows.filter((w) => !checkpoint?.has(key(w)));
  const skipped = opts.windows.length - todo.length;
  let points = 0;
  let done = 0;
  const failed: WindowOutcome[] = [];
  const extra: WindowOutcome[] = [];
  const typeCache = new Map<string, Promise<Map<string, string[]>>>();
  const measurementCache = new Map<string, Promise<string[]>>();

  const types = (db: string, rp: string, m: string) => {
    const k = JSON.stringify([db, rp, m]);
    let p = typeCache.get(k);
    if (!p) typeCache.set(k, (p = fieldTypes(source.client, db, rp, m)));
    return p;
  };
  const measurements = (db: string) => {
    let p = measurementCache.get(db);
    if (!p) measurementCache.set(db, (p = listMeasurements(source.client, db)));
    return p;
  };
  const pace = async () => {
    if (!opts.maxPointsPerSecond) return;
    const due = t0 + (points / opts.maxPointsPerSecond) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
  };
  const progress = () => {
    const elapsedMs = Date.now() - t0;
    opts.onProgress?.({
      windowsDone: done,
      windowsTotal: todo.length,
      points,
      elapsedMs,
      etaMs: done > 0 ? Math.round((elapsedMs / done) * (todo.length - done)) : undefined,
    });
  };

  const copyMeasurement = async (w: CopyWindow, m: string): Promise<number> => {
    const fieldTypeMap = await types(w.db, w.rp, m);
    let written = 0;
    let lines: string[] = [];
    let count = 0;
    const inFlight = new Set<Promise<void>>();
    let writeError: unknown;
    const flush = async () => {
      if (lines.length === 0) return;
      const body = lines.join('\n');
      const n = count;
      lines = [];
      count = 0;
      const p: Promise<void> = target.client
        .write(w.db, w.rp, body)
        .then(
          () => {
            written += n;
            points += n;
          },
          (err: unknown) => {
            writeError ??= err;
          },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
      if (writeError !== undefined) throw writeError;
      await pace();
    };
    const q = `SELECT * FROM ${qualified(w.rp, m)} WHERE ${timeWhere(w.startNs, w.endNs)} GROUP BY *`;
    for await (const s of source.client.select(q, w.db)) {
      count += seriesLines(s, fieldTypeMap, lines);
      if (lines.length >= batchLines) await flush();
    }
    await flush();
    await Promise.all(inFlight);
    if (writeError !== undefined) throw writeError;
    return written;
  };

  const copyWindow = async (w: CopyWindow): Promise<void> => {
    const names = w.measurement !== undefined ? [w.measurement] : await measurements(w.db);
    let n = 0;
    const short: string[] = [];
    let isExtra = false;
    for (const m of names) {
      if (opts.dryRun) {
        const c = await countFields(source.client, w, m);
        n += Math.max(0, ...Object.values(c));
        continue;
      }
      n += await copyMeasurement(w, m);
      const [want, have] = await Promise.all([countFields(source.client, w, m), countFields(target.client, w, m)]);
      for (const [f, c] of Object.entries(want)) {
        const got = have[f] ?? 0;
        if (got < c) short.push(`${m}.${f}: ${got} < ${c}`);
        else if (got > c) isExtra = true;
      }
    }
    const outcome: WindowOutcome = { window: w, points: n, ...(short.length > 0 ? { short: short.join(', ') } : {}), ...(isExtra ? { extra: true } : {}) };
    if (short.length > 0) failed.push(outcome);
    else if (checkpoint) await checkpoint.add(key(w));
    if (isExtra) extra.push(outcome);
    if (opts.dryRun) points += n;
    done++;
    opts.onWindow?.(outcome);
    progress();
  };

  const queue = new PQueue({ concurrency: opts.concurrency ?? 1 });
  await Promise.all(todo.map((w) => queue.add(() => copyWindow(w))));
  if (checkpoint && failed.length === 0) await checkpoint.remove();
  return { windows: opts.windows.length, copied: done, skipped, points, failed, extra, elapsedMs: Date.now() - t0 };
}
