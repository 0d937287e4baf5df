/**
 * A batch is the unit that flows from a source (HTTP, TCP, UDP) through the fan-out to every backend.
 *
 * Invariants:
 * - `body` holds only lines the scanner accepted, each ending in '\n', every one carrying a timestamp
 *   (stamped at receipt when the client sent none), so every backend and every retry writes the same points.
 * - Batches with the same `key` may be concatenated into one backend request: they share db, rp, precision
 *   and credentials.
 * - A statement batch (`statement: true`) carries InfluxQL that changes state (CREATE DATABASE, DROP, ...), not line
 *   protocol: it goes to each backend's /query through the same queue as the writes, so it keeps its place among
 *   them. Its key is unique: it never merges with a write or with another statement.
 */
import type { BodyOwners } from './body-pool.js';
import type { Precision } from './lineprotocol/precision.js';

/** Credentials the client sent; passed through to the backends unchanged. */
export interface Credentials {
  /** The raw `Authorization` header, if any. */
  readonly authorization?: string;
  /** InfluxDB 1.x query-string credentials. */
  readonly u?: string;
  readonly p?: string;
}

/** Where a batch goes on every backend. */
export interface WriteTarget {
  readonly db: string;
  /** Empty string means the database's default retention policy. */
  readonly rp: string;
  readonly precision: Precision;
  readonly credentials: Credentials;
}

export interface Batch {
  readonly target: WriteTarget;
  /** Batches with equal keys can be merged into one request. */
  readonly key: string;
  /** Valid, stamped line protocol; every line ends in '\n'. */
  readonly body: Buffer;
  /** Number of points (lines) in `body`. */
  readonly points: number;
  /** Date.now() at receipt: the age of a batch counts from here. */
  readonly receivedAt: number;
  /** Set: `body` is an InfluxQL query that changes state, sent to /query (`points` is 0). */
  readonly statement?: true;
  /**
   * Set when `body` is pooled memory (body-pool.ts): each memory queue holding the batch holds the body too, and
   * lets go when the batch leaves it.
   */
  readonly owners?: BodyOwners;
}

/** The merge key of a target: equal keys, equal request URL and headers. */
function targetKey(t: WriteTarget): string {
  const c = t.credentials;
  return `${t.db}\u0000${t.rp}\u0000${t.precision}\u0000${c.authorization ?? ''}\u0000${c.u ?? ''}\u0000${c.p ?? ''}`;
}

export function makeBatch(target: WriteTarget, body: Buffer, points: number, receivedAt = Date.now(), owners?: BodyOwners): Batch {
  return owners ? { target, key: targetKey(target), body, points, receivedAt, owners } : { target, key: targetKey(target), body, points, receivedAt };
}

let statements = 0;

/** A batch holding InfluxQL that changes state (the `db`/`rp` of the query, the client's credentials; precision 'n'). */
export function makeStatement(target: WriteTarget, query: Buffer, receivedAt = Date.now()): Batch {
  // Unique in this process, and a queue only merges equal keys that follow each other: never merged.
  return { target, key: `\u0001statement\u0000${++statements}`, body: query, points: 0, receivedAt, statement: true };
}
