/**
 * The cluster at a glance: every relay's /status.json, every database's /ping, and HAProxy's view of both (its
 * stats CSV), gathered at once and merged per relay and per database. Nothing here throws for a component that does
 * not answer: that is what the view is for; the component is shown as not answering, with the reason.
 */
import { request } from 'undici';
import type { RelayStatus } from '../admin/status.js';
import type { Cluster } from '../haproxy/cluster.js';
import { NAMES } from '../haproxy/names.js';
import { httpBase, statsSource, type StatsRow } from './haproxy-stats.js';

/** One server as HAProxy sees it: status (UP, DOWN, MAINT, DRAIN, "UP 1/2", ...), last check, current sessions. */
export interface ServerView {
  readonly status: string;
  readonly check: string;
  readonly sessions: number;
}

export interface RelayView {
  readonly name: string;
  readonly url: string;
  /** Its status, or why it did not give one. */
  readonly status?: RelayStatus;
  readonly error?: string;
  /** HAProxy's write pool (`writes`). */
  readonly haproxy?: ServerView;
}

export interface DatabaseView {
  readonly name: string;
  readonly url: string;
  readonly pings: boolean;
  readonly error?: string;
  /** HAProxy's fallback read pool (reads_any: answers /ping) and its fresh pool (reads_fresh: caught up everywhere). */
  readonly haproxyAny?: ServerView;
  readonly haproxyFresh?: ServerView;
  /** Over the relays that answered: the worst state, backlog summed, oldest batch, missed windows at most. */
  readonly relayStates: Readonly<Record<string, string>>;
  readonly backlogBytes: number;
  readonly backlogBatches: number;
  readonly oldestBatchAgeMs: number;
  readonly missedWindows: number;
  readonly quarantined: boolean;
  readonly deliveredPerSecond?: number;
}

export interface ClusterStatus {
  readonly at: string;
  readonly haproxy: { readonly from: string; readonly ok: boolean; readonly error?: string };
  readonly relays: readonly RelayView[];
  readonly databases: readonly DatabaseView[];
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
  return JSON.parse(text);
}

async function pings(url: string, timeoutMs: number): Promise<void> {
  const res = await request(`${url}/ping`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  await res.body.dump();
  if (res.statusCode !== 204) throw new Error(`/ping answered ${res.statusCode}`);
}

/**
 * One server's row of HAProxy's stats. A check in progress is reported as its last result prefixed with "* "
 * (HAProxy's management guide, check_status): the prefix is dropped, the last result is what the view shows.
 */
export function serverView(rows: readonly StatsRow[] | undefined, backend: string, server: string): ServerView | undefined {
  const row = rows?.find((r) => r['pxname'] === backend && r['svname'] === server);
  if (row === undefined) return undefined;
  const check = (row['check_status'] ?? '').replace(/^\* /, '');
  return { status: row['status'] ?? '', check, sessions: Number(row['scur'] ?? 0) };
}

const STATE_ORDER = ['down', 'catching-up', 'up'];

export async function gatherCluster(cluster: Cluster, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ClusterStatus> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const stats = statsSource(cluster, opts.env, timeoutMs);
  const [rows, relayAnswers, dbAnswers] = await Promise.all([
    stats?.read().then(
      (r) => ({ rows: r }),
      (err: unknown) => ({ error: message(err) }),
    ),
    Promise.all(
      cluster.relays.map(async (r) => {
        const url = httpBase(r.address);
        try {
          return { url, status: (await getJson(`${url}/status.json`, timeoutMs)) as RelayStatus };
        } catch (err) {
          return { url, error: message(err) };
        }
      }),
    ),
    Promise.all(
      cluster.databases.map(async (d) => {
        const url = httpBase(d.address);
        try {
          await pings(url, timeoutMs);
          return { url };
        } catch (err) {
          return { url, error: message(err) };
        }
      }),
    ),
  ]);
  const statRows = rows && 'rows' in rows ? rows.rows : undefined;

  const relays = cluster.relays.map((r, i): RelayView => {
    const a = relayAnswers[i]!;
    const haproxy = serverView(statRows, NAMES.writes, r.name);
    return { name: r.name, url: a.url, ...(a.status ? { status: a.status } : { error: a.error }), ...(haproxy ? { haproxy } : {}) };
  });

  const databases = cluster.databases.map((d, i): DatabaseView => {
    const a = dbAnswers[i]!;
    const seen = relays.flatMap((r) => (r.status?.backends ?? []).filter((b) => b.name === d.name).map((b) => ({ relay: r.name, b })));
    const rates = seen.map((s) => s.b.deliveredPerSecond).filter((x): x is number => x !== undefined);
    const haproxyAny = serverView(statRows, NAMES.readsAny, d.name);
    const haproxyFresh = serverView(statRows, NAMES.readsFresh, d.name);
    return {
      name: d.name,
      url: a.url,
      pings: a.error === undefined,
      ...(a.error !== undefined ? { error: a.error } : {}),
      ...(haproxyAny ? { haproxyAny } : {}),
      ...(haproxyFresh ? { haproxyFresh } : {}),
      relayStates: Object.fromEntries(seen.map((s) => [s.relay, s.b.state])),
      backlogBytes: seen.reduce((n, s) => n + s.b.queueBytes, 0),
      backlogBatches: seen.reduce((n, s) => n + s.b.queueBatches, 0),
      oldestBatchAgeMs: Math.max(0, ...seen.map((s) => s.b.oldestBatchAgeMs)),
      missedWindows: Math.max(0, ...seen.map((s) => s.b.missedWindows ?? 0)),
      quarantined: seen.some((s) => s.b.quarantined),
      ...(rates.length > 0 ? { deliveredPerSecond: rates.reduce((x, y) => x + y, 0) } : {}),
    };
  });

  return {
    at: new Date().toISOString(),
    haproxy: stats === undefined ? { from: 'none', ok: false, error: 'no stats socket or page in the cluster file' } : { from: stats.from, ok: statRows !== undefined, ...(rows && 'error' in rows ? { error: rows.error } : {}) },
    relays,
    databases,
  };
}

/** The worst of several backend states (down before catching-up before up). */
export function worstState(states: readonly string[]): string | undefined {
  return [...states].sort((a, b) => STATE_ORDER.indexOf(a) - STATE_ORDER.indexOf(b))[0];
}

/** True when some relay gave no rates yet (its first sample): ask again after a second for a one-shot view. */
export function lacksRates(s: ClusterStatus): boolean {
  return s.relays.some((r) => r.status !== undefined && r.status.rateIntervalMs === undefined);
}
