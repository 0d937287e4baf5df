/**
 * Compares replicas, read-only: every database (but `_internal`), retention policy and measurement, by time window.
 *
 * Cost model: per (rp, measurement) and replica, two one-point queries for its time range (skipped when both --start
 * and --end are given), then one `count(*) ... GROUP BY time(W) fill(none)` per span of at most MAX_WINDOWS_PER_QUERY
 * windows: influxd answers those from TSM block metadata mostly, without decoding values. Only windows whose counts
 * differ are examined again, with windows ten times smaller, down to `minWindowNs`; a window empty on one side is not
 * drilled (the whole window is missing there). `deep` adds, for every window whose counts agree, a digest of its
 * points (`SELECT * ... GROUP BY *`): that reads every value, so it costs as much as a full dump.
 *
 * Every query goes through one p-queue of `concurrency` slots: that is the load verify puts on the replicas.
 * Differences of adjacent windows of one measurement are merged into one range, their counts summed.
 */
import { createHash } from 'node:crypto';
import PQueue from 'p-queue';
import { InfluxQLClient, qualified, timeWhere } from './influxql-client.js';
import { listDatabases, listMeasurements, listRetentionPolicies, timeBounds, type RetentionPolicy } from './verify-schema.js';

export const NS_PER_SECOND = 1_000_000_000n;
export const DEFAULT_WINDOW_NS = 3600n * NS_PER_SECOND;
export const DEFAULT_MIN_WINDOW_NS = 60n * NS_PER_SECOND;
/** Windows per aggregate query: bounds the answer's size whatever the range. */
const MAX_WINDOWS_PER_QUERY = 1000n;

export interface Replica {
  /** Shown in reports: the backend's name or the URL's origin. */
  readonly name: string;
  readonly client: InfluxQLClient;
}

export type DifferenceKind = 'database' | 'retention-policy' | 'measurement' | 'window';

export interface Difference {
  readonly kind: DifferenceKind;
  readonly db: string;
  readonly rp?: string;
  readonly measurement?: string;
  /** Windows: [startNs, endNs). */
  readonly startNs?: bigint;
  readonly endNs?: bigint;
  /** Per replica (in the order given): points in the window (the largest per-field count). */
  readonly counts?: readonly number[];
  /** Per replica: count of each field. */
  readonly fieldCounts?: readonly Readonly<Record<string, number>>[];
  /** Per replica: digest of the window's points (deep mode, counts equal). */
  readonly digests?: readonly string[];
  /** Presence kinds: whether each replica has it. */
  readonly present?: readonly boolean[];
  readonly detail?: string;
}

export interface CompareProgress {
  /** (rp, measurement) pairs finished and known so far. */
  readonly done: number;
  readonly total: number;
  readonly differences: number;
}

export interface CompareOptions {
  readonly replicas: readonly Replica[];
  /** Only these databases (default: every one on any replica). */
  readonly databases?: readonly string[];
  readonly startNs?: bigint;
  readonly endNs?: bigint;
  readonly windowNs?: bigint;
  readonly minWindowNs?: bigint;
  readonly deep?: boolean;
  readonly concurrency?: number;
  readonly onProgress?: (p: CompareProgress) => void;
  /** Shares a query limiter with a caller (repair). */
  readonly queue?: PQueue;
}

type FieldCounts = Record<string, number>;

interface Ctx {
  readonly replicas: readonly Replica[];
  readonly limit: PQueue;
  readonly deep: boolean;
  readonly minWindowNs: bigint;
}

const alignDown = (t: bigint, w: bigint): bigint => {
  const r = t % w;
  return r < 0n ? t - r - w : t - r;
};

const maxCount = (c: FieldCounts | undefined): number => Math.max(0, ...Object.values(c ?? {}));

function sameCounts(all: readonly (FieldCounts | undefined)[]): boolean {
  const key = (c: FieldCounts | undefined) =>
    JSON.stringify(Object.entries(c ?? {}).filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const first = key(all[0]);
  return all.every((c) => key(c) === first);
}

/** count(*) per window of `windowNs` in [startNs, endNs): window start → field → count. */
export async function countWindows(
  client: InfluxQLClient,
  db: string,
  rp: string,
  measurement: string,
  startNs: bigint,
  endNs: bigint,
  windowNs: bigint,
): Promise<Map<bigint, FieldCounts>> {
  const q =
    `SELECT count(*) FROM ${qualified(rp, measurement)} WHERE ${timeWhere(startNs, endNs)} ` +
    `GROUP BY time(${windowNs}ns) fill(none)`;
  const out = new Map<bigint, FieldCounts>();
  for (const s of await client.query(q, db)) {
    for (const row of s.values) {
      const counts: FieldCounts = {};
      s.columns.forEach((col, i) => {
        if (i > 0 && typeof row[i] === 'number') counts[col.replace(/^count_/, '')] = row[i] as number;
      });
      const t = row[0];
      out.set(typeof t === 'bigint' ? t : BigInt(t as number), counts);
    }
  }
  return out;
}

/**
 * Digest of the points of [startNs, endNs): per point, its series key, time and non-null fields. Independent of
 * chunking and of the all-null columns a shard's schema may add. Integers and floats with the same decimal text
 * (1 and 1.0) digest alike: JSON does not tell them apart.
 */
export async function digestWindow(
  client: InfluxQLClient,
  db: string,
  rp: string,
  measurement: string,
  startNs: bigint,
  endNs: bigint,
): Promise<string> {
  const h = createHash('sha256');
  const q = `SELECT * FROM ${qualified(rp, measurement)} WHERE ${timeWhere(startNs, endNs)} GROUP BY *`;
  for await (const s of client.select(q, db)) {
    const tags = Object.entries(s.tags ?? {})
      .filter(([, v]) => v !== '')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => JSON.stringify(k) + '=' + JSON.stringify(v))
      .join(',');
    const head = JSON.stringify(s.name) + '\0' + tags + '\0';
    for (const row of s.values) {
      let line = head + String(row[0]);
      for (let i = 1; i < s.columns.length; i++) {
        const v = row[i];
        if (v === null || v === undefined) continue;
        line += '\0' + JSON.stringify(s.columns[i]) + '=' + (typeof v === 'string' ? JSON.stringify(v) : String(v));
      }
      h.update(line + '\n');
    }
  }
  return h.digest('hex').slice(0, 16);
}

interface MeasurementKey {
  readonly db: string;
  readonly rp: string;
  readonly measurement: string;
}

/** The differing windows of one (db, rp, measurement) in [startNs, endNs), examined at windowNs. */
async function compareSpan(ctx: Ctx, key: MeasurementKey, has: readonly boolean[], startNs: bigint, endNs: bigint, windowNs: bigint): Promise<Difference[]> {
  const { db, rp, measurement } = key;
  const spans: Array<[bigint, bigint]> = [];
  for (let a = startNs; a < endNs; ) {
    const b = alignDown(a, windowNs) + windowNs * MAX_WINDOWS_PER_QUERY;
    spans.push([a, b < endNs ? b : endNs]);
    a = b;
  }
  const perSpan = await Promise.all(
    spans.map(async ([a, b]) => {
      const counts = await Promise.all(
        ctx.replicas.map((r, i) =>
          has[i] ? ctx.limit.add(() => countWindows(r.client, db, rp, measurement, a, b, windowNs)) : new Map<bigint, FieldCounts>(),
        ),
      );
      const starts = [...new Set(counts.flatMap((m) => [...m.keys()]))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      const found = await Promise.all(
        starts.map((bucket) => {
          const ws = bucket < a ? a : bucket;
          const we = bucket + windowNs < b ? bucket + windowNs : b;
          return compareWindow(ctx, key, has, ws, we, windowNs, counts.map((m) => m.get(bucket)));
        }),
      );
      return found.flat();
    }),
  );
  return perSpan.flat();
}

async function compareWindow(
  ctx: Ctx,
  key: MeasurementKey,
  has: readonly boolean[],
  ws: bigint,
  we: bigint,
  windowNs: bigint,
  counts: readonly (FieldCounts | undefined)[],
): Promise<Difference[]> {
  const { db, rp, measurement } = key;
  const finer = windowNs / 10n > ctx.minWindowNs ? windowNs / 10n : ctx.minWindowNs;
  const canDrill = windowNs > ctx.minWindowNs && we - ws > finer;
  const diff = (digests?: string[]): Difference => ({
    kind: 'window',
    db,
    rp,
    measurement,
    startNs: ws,
    endNs: we,
    counts: counts.map(maxCount),
    fieldCounts: counts.map((c) => ({ ...c })),
    ...(digests ? { digests } : {}),
  });
  if (!sameCounts(counts)) {
    // A window empty on one side is missing there whole: narrowing it down would only cost queries.
    if (canDrill && counts.every((c) => maxCount(c) > 0)) {
      const sub = await compareSpan(ctx, key, has, ws, we, finer);
      if (sub.length > 0) return sub;
    }
    return [diff()];
  }
  if (!ctx.deep) return [];
  const digests = await Promise.all(
    ctx.replicas.map((r) => ctx.limit.add(() => digestWindow(r.client, db, rp, measurement, ws, we))),
  );
  if (digests.every((d) => d === digests[0])) return [];
  if (canDrill) {
    const sub = await compareSpan(ctx, key, has, ws, we, finer);
    if (sub.length > 0) return sub;
  }
  return [diff(digests)];
}

/** Adjacent window differences of one measurement become one range; counts are summed. */
export function mergeAdjacent(diffs: readonly Difference[]): Difference[] {
  const out: Difference[] = [];
  for (const d of diffs) {
    const prev = out[out.length - 1];
    if (
      prev !== undefined &&
      prev.kind === 'window' &&
      d.kind === 'window' &&
      prev.db === d.db &&
      prev.rp === d.rp &&
      prev.measurement === d.measurement &&
      prev.endNs === d.startNs
    ) {
      const fieldCounts = prev.fieldCounts!.map((c, i) => {
        const sum: FieldCounts = { ...c };
        for (const [f, n] of Object.entries(d.fieldCounts![i] ?? {})) sum[f] = (sum[f] ?? 0) + n;
        return sum;
      });
      out[out.length - 1] = {
        kind: 'window',
        db: d.db,
        rp: d.rp!,
        measurement: d.measurement!,
        startNs: prev.startNs!,
        endNs: d.endNs!,
        counts: prev.counts!.map((n, i) => n + (d.counts![i] ?? 0)),
        fieldCounts,
      };
    } else out.push(d);
  }
  return out;
}

const sameRp = (a: RetentionPolicy, b: RetentionPolicy): boolean =>
  a.duration === b.duration && a.shardGroupDuration === b.shardGroupDuration && a.replicaN === b.replicaN && a.isDefault === b.isDefault;

const describeRp = (rp: RetentionPolicy): string =>
  `duration ${rp.duration} shard ${rp.shardGroupDuration} replication ${rp.replicaN}${rp.isDefault ? ' default' : ''}`;

/**
 * Every difference between the replicas, in a stable order: presence and settings differences of databases, rps
 * and measurements, then differing windows by (db, rp, measurement, start). Empty: the replicas are identical for
 * what was compared.
 */
export async function compareReplicas(opts: CompareOptions): Promise<Difference[]> {
  const { replicas } = opts;
  if (replicas.length < 2) throw new Error('compareReplicas needs at least two replicas');
  const windowNs = opts.windowNs ?? DEFAULT_WINDOW_NS;
  const ctx: Ctx = {
    replicas,
    limit: opts.queue ?? new PQueue({ concurrency: opts.concurrency ?? 2 }),
    deep: opts.deep ?? false,
    minWindowNs: opts.minWindowNs ?? (DEFAULT_MIN_WINDOW_NS < windowNs ? DEFAULT_MIN_WINDOW_NS : windowNs),
  };
  const q = <T>(fn: () => Promise<T>): Promise<T> => ctx.limit.add(fn);
  const progress = { done: 0, total: 0, differences: 0 };
  const report = () => opts.onProgress?.({ ...progress });

  const dbLists = await Promise.all(replicas.map((r) => q(() => listDatabases(r.client))));
  const wanted = opts.databases && opts.databases.length > 0 ? new Set(opts.databases) : undefined;
  const dbs = [...new Set(dbLists.flat())].filter((db) => !wanted || wanted.has(db)).sort();

  const perDb = await Promise.all(
    dbs.map(async (db) => {
      const diffs: Difference[] = [];
      const hasDb = dbLists.map((l) => l.includes(db));
      if (!hasDb.every(Boolean)) diffs.push({ kind: 'database', db, present: hasDb });
      const rpLists = await Promise.all(replicas.map((r, i) => (hasDb[i] ? q(() => listRetentionPolicies(r.client, db)) : ([] as RetentionPolicy[]))));
      const mLists = await Promise.all(replicas.map((r, i) => (hasDb[i] ? q(() => listMeasurements(r.client, db)) : ([] as string[]))));
      const rpNames = [...new Set(rpLists.flat().map((rp) => rp.name))].sort();
      for (const name of rpNames) {
        const each = rpLists.map((l) => l.find((rp) => rp.name === name));
        const present = each.map((rp) => rp !== undefined);
        if (hasDb.every(Boolean) && !present.every(Boolean)) diffs.push({ kind: 'retention-policy', db, rp: name, present });
        const defined = each.filter((rp): rp is RetentionPolicy => rp !== undefined);
        if (present.every(Boolean) && !defined.every((rp) => sameRp(rp, defined[0]!)))
          diffs.push({ kind: 'retention-policy', db, rp: name, present, detail: each.map((rp) => describeRp(rp!)).join(' | ') });
      }
      const measurements = [...new Set(mLists.flat())].sort();
      for (const m of measurements) {
        const present = mLists.map((l) => l.includes(m));
        if (hasDb.every(Boolean) && !present.every(Boolean)) diffs.push({ kind: 'measurement', db, measurement: m, present });
      }
      progress.total += rpNames.length * measurements.length;
      report();

      const windows = await Promise.all(
        rpNames.flatMap((rp) =>
          measurements.map(async (measurement) => {
            const has = replicas.map((_, i) => rpLists[i]!.some((p) => p.name === rp) && mLists[i]!.includes(measurement));
            let startNs = opts.startNs;
            let endNs = opts.endNs;
            if (startNs === undefined || endNs === undefined) {
              const bounds = await Promise.all(replicas.map((r, i) => (has[i] ? q(() => timeBounds(r.client, db, rp, measurement)) : undefined)));
              const known = bounds.filter((b) => b !== undefined);
              if (known.length === 0) {
                progress.done++;
                report();
                return [];
              }
              const first = known.reduce((m, b) => (b.firstNs < m ? b.firstNs : m), known[0]!.firstNs);
              const last = known.reduce((m, b) => (b.lastNs > m ? b.lastNs : m), known[0]!.lastNs);
              startNs ??= alignDown(first, windowNs);
              endNs ??= alignDown(last, windowNs) + windowNs;
            }
            const found = startNs < endNs ? mergeAdjacent(await compareSpan(ctx, { db, rp, measurement }, has, startNs, endNs, windowNs)) : [];
            progress.done++;
            progress.differences += found.length;
            report();
            return found;
          }),
        ),
      );
      return [...diffs, ...windows.flat()];
    }),
  );
  return perDb.flat();
}
