/**
 * /health for load balancers and people: 200 when this listener can accept writes, 503 when it cannot (shutting
 * down, some backend's queue full under `when-full = reject`, or the spool's disk failing writes), with every
 * backend's state, backlog, missed windows and last error, and the spool's disk state.
 * /health/backends/<name>: 200 when that backend is up with no backlog; 503 while it is down or catching up
 * (HAProxy uses it to keep a stale replica out of the read pool).
 * /health?format=influxdb: the same verdict in InfluxDB 1.8's /health shape, for tools that probe InfluxDB itself.
 */
import type { BackendHealth } from '../backends/backend.js';
import type { JournalHealth } from '../queue/queue.js';
import { VERSION, VERSION_HEADER } from '../version.js';

export interface ListenerHealth {
  readonly name: string;
  readonly status: 'pass' | 'fail';
  readonly acceptingWrites: boolean;
  readonly version: string;
  readonly message: string;
  readonly backends: readonly BackendHealth[];
  /** With a spool: whether its disk takes writes. */
  readonly spool?: JournalHealth;
}

export function listenerHealth(name: string, reports: readonly BackendHealth[], closing: boolean, spool?: JournalHealth): ListenerHealth {
  const full = reports.filter((r) => !r.acceptingWrites).map((r) => r.name);
  const diskDown = spool !== undefined && !spool.ok;
  const accepting = !closing && full.length === 0 && !diskDown;
  let message = 'ready for writes';
  if (closing) message = 'shutting down';
  else if (diskDown) message = `cannot accept writes: the spool's disk has failed them since ${spool.since ?? '?'}: ${spool.error ?? 'unknown error'}`;
  else if (full.length > 0) message = `cannot accept writes: queue full for ${full.join(', ')}`;
  else {
    const behind = reports.filter((r) => r.state !== 'up').map((r) => `${r.name} ${r.state}`);
    if (behind.length > 0) message = `ready for writes; queued for ${behind.join(', ')}`;
  }
  return { name, status: accepting ? 'pass' : 'fail', acceptingWrites: accepting, version: VERSION, message, backends: reports, ...(spool ? { spool } : {}) };
}

/**
 * A database is caught up from this relay's view only when every queue the relay holds for it is (HTTP, TCP and UDP
 * listeners each have their own backend and queue for the same output name), and it is **quarantined** while the
 * ledger holds a window it missed and that is not repaired yet: it may lack points the other replicas have, so reads
 * stay off it. HAProxy counts a database fresh only when every relay that answers says so, so the one relay that
 * recorded the window is enough; the ledger is on disk, so a restart does not forget it.
 */
export function backendReadiness(reports: readonly BackendHealth[]): {
  status: 200 | 503;
  body: BackendHealth & { queues: number; quarantined: boolean; message: string };
} {
  const worst = reports.find((r) => r.state === 'down') ?? reports.find((r) => r.state === 'catching-up') ?? reports[0]!;
  const missed = Math.max(0, ...reports.map((r) => r.missedWindows ?? 0));
  const caughtUp = reports.every((r) => r.state === 'up');
  const quarantined = missed > 0;
  let message = 'fresh: reads may go here';
  if (!caughtUp) message = `not fresh: ${worst.state}`;
  else if (quarantined) message = `quarantined: ${missed} missed window(s) not repaired yet (influx-relay missed)`;
  const body = {
    ...worst,
    queueBytes: reports.reduce((n, r) => n + r.queueBytes, 0),
    queueBatches: reports.reduce((n, r) => n + r.queueBatches, 0),
    oldestBatchAgeMs: Math.max(...reports.map((r) => r.oldestBatchAgeMs)),
    ...(reports.some((r) => r.missedWindows !== undefined) ? { missedWindows: missed } : {}),
    queues: reports.length,
    quarantined,
    message,
  };
  return { status: caughtUp && !quarantined ? 200 : 503, body };
}

/** InfluxDB 1.8's /health body; keys in the order 1.8 sends them (Go's encoding/json sorts a map's keys). */
export interface InfluxdbHealth {
  readonly checks: readonly never[];
  readonly message: string;
  readonly name: 'influxdb';
  readonly status: 'pass' | 'fail';
  readonly version: string;
}

/**
 * A listener's health as InfluxDB 1.8 words it: "ready for queries and writes" when it passes (1.8's only answer),
 * the relay's reason when it fails. The version is the relay's X-Influxdb-Version, never a real InfluxDB's.
 */
export function influxdbHealth(h: ListenerHealth): InfluxdbHealth {
  const pass = h.status === 'pass';
  return {
    checks: [],
    message: pass ? 'ready for queries and writes' : h.message,
    name: 'influxdb',
    status: h.status,
    version: VERSION_HEADER,
  };
}
