/**
 * A small InfluxDB 1.x HTTP client for the verify and repair commands: InfluxQL over POST /query (every statement,
 * read or not, so that long queries fit and CREATE works), line protocol over POST /write, on one undici Pool.
 *
 * - Credentials in the URL (`http://user:pass@host:8086`) go as Basic auth, never in the request URL. Any path in the
 *   URL (a relay.toml `location` ends in /write) is dropped: the origin is what counts.
 * - Answers are parsed losslessly (lossless-json.ts): `epoch=ns` timestamps and int64 fields exceed 2^53.
 * - `select()` asks for `chunked=true` and yields series fragments as influxd sends them (one JSON document per
 *   line), so a large window never sits whole in memory. A fragment may continue the previous one's series.
 * - Every error, at the HTTP level or inside a statement's result, is an InfluxQLError naming the server.
 */
import { Pool } from '../backends/undici-pool.js';
import { parseJsonLossless } from './lossless-json.js';

/** One series (or a chunk of one): values rows follow `columns`; `time` is first (bigint or number ns). */
export interface Series {
  readonly name: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  readonly values: readonly (readonly unknown[])[];
}

export class InfluxQLError extends Error {
  readonly code = 'ERR_INFLUXQL';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Double-quoted InfluxQL identifier. */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** `"rp"."measurement"`; an empty rp is the database's default. */
export function qualified(rp: string, measurement: string): string {
  return (rp === '' ? '' : quoteIdent(rp) + '.') + quoteIdent(measurement);
}

/** A time condition `time >= a AND time < b` in integer nanoseconds (exact, unlike RFC 3339 through a Date). */
export function timeWhere(startNs: bigint, endNs: bigint): string {
  return `time >= ${startNs} AND time < ${endNs}`;
}

export interface InfluxQLClientOptions {
  /** HTTP connections to this server (default 4). */
  readonly connections?: number;
  /** Timeout of one request without any byte received (default 5 minutes: a deep window can be slow). */
  readonly timeoutMs?: number;
}

interface QueryAnswer {
  error?: string;
  results?: Array<{ error?: string; series?: Series[] }>;
}

export class InfluxQLClient {
  /** The origin, without credentials: safe to print. */
  readonly origin: string;
  private readonly pool: Pool;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;

  constructor(url: string, opts: InfluxQLClientOptions = {}) {
    const u = new URL(url);
    this.origin = u.origin;
    const user = decodeURIComponent(u.username);
    this.authorization = user
      ? 'Basic ' + Buffer.from(`${user}:${decodeURIComponent(u.password)}`).toString('base64')
      : undefined;
    this.timeoutMs = opts.timeoutMs ?? 300_000;
    this.pool = new Pool(this.origin, { connections: opts.connections ?? 4 });
  }

  private headers(contentType: string): Record<string, string> {
    return { 'content-type': contentType, ...(this.authorization ? { authorization: this.authorization } : {}) };
  }

  private async post(path: string, body: string, contentType: string) {
    try {
      return await this.pool.request({
        method: 'POST',
        path,
        body,
        headers: this.headers(contentType),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (err) {
      throw new InfluxQLError(`${this.origin}: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
    }
  }

  private queryBody(q: string, db: string | undefined, chunked: boolean): string {
    const form = new URLSearchParams({ q, epoch: 'ns' });
    if (db !== undefined) form.set('db', db);
    if (chunked) {
      form.set('chunked', 'true');
      form.set('chunk_size', '10000');
    }
    return form.toString();
  }

  private check(q: string, status: number, answer: QueryAnswer | undefined, text: string): void {
    const err = answer?.error ?? answer?.results?.find((r) => r.error !== undefined)?.error;
    if (status < 200 || status > 299 || answer === undefined || err !== undefined) {
      throw new InfluxQLError(`${this.origin}: ${JSON.stringify(q.slice(0, 200))}: HTTP ${status} ${err ?? text.slice(0, 300)}`, status);
    }
  }

  /** Runs one statement; its series (an empty list when it returns none). */
  async query(q: string, db?: string): Promise<Series[]> {
    const res = await this.post('/query', this.queryBody(q, db, false), 'application/x-www-form-urlencoded');
    const text = await res.body.text();
    const answer = parseAnswer(text);
    this.check(q, res.statusCode, answer, text);
    return answer?.results?.[0]?.series ?? [];
  }

  /** Runs one SELECT with chunked=true; yields series fragments as they arrive. */
  async *select(q: string, db: string): AsyncGenerator<Series> {
    const res = await this.post('/query', this.queryBody(q, db, true), 'application/x-www-form-urlencoded');
    if (res.statusCode < 200 || res.statusCode > 299) {
      const text = await res.body.text();
      this.check(q, res.statusCode, parseAnswer(text), text);
    }
    let pending = '';
    res.body.setEncoding('utf8');
    try {
      for await (const chunk of res.body as AsyncIterable<string>) {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.trim() !== '') yield* this.fragments(q, res.statusCode, line);
        }
      }
      if (pending.trim() !== '') yield* this.fragments(q, res.statusCode, pending);
    } finally {
      // An abandoned iteration must not leave the connection busy.
      if (!res.body.destroyed) res.body.destroy();
    }
  }

  private *fragments(q: string, status: number, line: string): Generator<Series> {
    const answer = parseJsonLossless(line) as QueryAnswer;
    this.check(q, status, answer, line);
    for (const r of answer.results ?? []) yield* r.series ?? [];
  }

  /** POST /write with nanosecond timestamps; throws unless 204. */
  async write(db: string, rp: string, body: string): Promise<void> {
    const qs = new URLSearchParams({ db, precision: 'ns' });
    if (rp !== '') qs.set('rp', rp);
    const res = await this.post(`/write?${qs}`, body, 'text/plain; charset=utf-8');
    const text = await res.body.text();
    if (res.statusCode !== 204) throw new InfluxQLError(`${this.origin}: write db=${db} rp=${rp}: HTTP ${res.statusCode} ${text.slice(0, 300)}`, res.statusCode);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** /query's JSON (integers kept exact), or undefined when the body is not JSON (a proxy's error page). */
function parseAnswer(text: string): QueryAnswer | undefined {
  try {
    return parseJsonLossless(text) as QueryAnswer;
  } catch {
    return undefined;
  }
}
