/**
 * How one write request looks to each kind of backend (a BackendApi; the client side of the relay, how a client's
 * request reads, is a ClientDialect: sources/write-pipeline.ts). A batch always carries a 1.x target (db, rp, precision,
 * the client's credentials); an API turns it into a path, an Authorization header and a body, and turns the
 * backend's error answer into 1.x's `{"error":"..."}`, the shape the outcome table, the logs and the clients read.
 *
 * - v1, InfluxDB 1.x `/write?db=&rp=&precision=`: the client's credentials pass through, in a header: its `u`/`p`
 *   go as `Authorization: Basic` (1.x reads Basic auth the same as u/p), never in the URL, where a backend's or a
 *   proxy's access log or error page would show them. 1.x reads u/p before the header, so when the client sent both
 *   (non-empty), Basic u:p is what goes; otherwise the client's own Authorization header, unchanged. `http-user`/
 *   `http-pass` (or the location's user:pass) are used when the client sent no credentials at all.
 * - v2, InfluxDB 2.x/3.x `/api/v2/write?org=&bucket=&precision=`: the configured token replaces the client's
 *   credentials; the bucket is the configured one, else `db/rp` (or `db`), which is how 1.8 and 3.x map a 1.x
 *   database to a bucket; `m`/`h` batches are rewritten in seconds (see retime.ts).
 */
import type { Credentials, WriteTarget } from '../batch.js';
import type { Precision } from '../lineprotocol/precision.js';
import { SECONDS_PER, timestampsToSeconds } from './retime.js';

export interface BackendApi {
  /** Request path and query for a target. */
  path(target: WriteTarget): string;
  authorization(target: WriteTarget): string | undefined;
  /** The body as this API must receive it (the same buffers when nothing changes). */
  body(target: WriteTarget, body: Buffer | Buffer[]): Buffer | Buffer[];
  /** An error answer's body in 1.x's shape. */
  errorBody(text: string): string;
  /** The backend's InfluxQL endpoint: 1.x's /query, next to its /write (2.x: its 1.x-compatible /query). */
  readonly queryPath: string;
  /** Whether statements that change state are sent to it (1.x only: a 2.x's buckets are not made by InfluxQL). */
  readonly statements: boolean;
}

export interface V2Settings {
  readonly org: string;
  /** Unset: `db/rp`, or `db` when the write names no retention policy. */
  readonly bucket?: string;
  readonly token: string;
}

export function v1BackendApi(url: URL, httpUser?: string, httpPass?: string): BackendApi {
  // A bare origin (http://influxdb:8086) means InfluxDB's /write.
  const basePath = url.pathname === '' || url.pathname === '/' ? '/write' : url.pathname;
  // Query parameters in the location (e.g. a fixed consistency) are kept; the request's own are added.
  const baseQuery = url.searchParams;
  const user = httpUser ?? decodeURIComponent(url.username);
  const pass = httpPass ?? decodeURIComponent(url.password);
  const defaultAuth = user ? basicAuth(user, pass) : undefined;
  return {
    path(target) {
      const q = new URLSearchParams(baseQuery);
      q.set('db', target.db);
      if (target.rp) q.set('rp', target.rp);
      // 'n' is InfluxDB's default; the others are spelled the way InfluxDB 1.x parses them.
      if (target.precision !== 'n') q.set('precision', target.precision);
      return `${basePath}?${q.toString()}`;
    },
    authorization: (target) => v1Authorization(target.credentials, defaultAuth),
    body: (_target, body) => body,
    errorBody: (text) => text,
    // /write → /query, /influx/write → /influx/query: the same server, the same prefix.
    queryPath: basePath.replace(/\/[^/]*$/, '/query'),
    statements: true,
  };
}

/**
 * The Authorization header that makes a 1.x backend see the credentials it would have read from the client's own
 * request: u/p when both are non-empty (1.x reads them first), else the client's header; partial u/p alone go as
 * Basic too (1.x would reject them either way); the configured credentials only when the client sent none.
 */
function v1Authorization(c: Credentials, defaultAuth: string | undefined): string | undefined {
  if (c.u && c.p) return basicAuth(c.u, c.p);
  if (c.authorization) return c.authorization;
  if (c.u !== undefined || c.p !== undefined) return basicAuth(c.u ?? '', c.p ?? '');
  return defaultAuth;
}

function basicAuth(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

/** The 2.x precision a batch is sent in: m and h go as seconds (their timestamps rewritten). */
const V2_PRECISION: Readonly<Record<Precision, string>> = { n: 'ns', u: 'us', ms: 'ms', s: 's', m: 's', h: 's' };

export function v2BackendApi(url: URL, settings: V2Settings): BackendApi {
  const basePath = url.pathname === '' || url.pathname === '/' ? '/api/v2/write' : url.pathname;
  const baseQuery = url.searchParams;
  const authorization = `Token ${settings.token}`;
  return {
    path(target) {
      const q = new URLSearchParams(baseQuery);
      q.set('org', settings.org);
      q.set('bucket', settings.bucket ?? (target.rp ? `${target.db}/${target.rp}` : target.db));
      q.set('precision', V2_PRECISION[target.precision]);
      return `${basePath}?${q.toString()}`;
    },
    authorization: () => authorization,
    body(target, body) {
      const factor = SECONDS_PER[target.precision];
      if (factor === undefined) return body;
      return Array.isArray(body) ? body.map((b) => timestampsToSeconds(b, factor)) : timestampsToSeconds(body, factor);
    },
    errorBody: v2ErrorAsV1,
    queryPath: basePath.replace(/\/api\/v2\/write$/, '') + '/query',
    statements: false,
  };
}

/** `{"code":"unauthorized","message":"unauthorized access"}` → `{"error":"unauthorized access"}`; anything else as is. */
function v2ErrorAsV1(text: string): string {
  try {
    const json: unknown = JSON.parse(text);
    if (json && typeof json === 'object' && 'message' in json && typeof json.message === 'string') {
      return JSON.stringify({ error: json.message });
    }
  } catch {
    // not JSON: a proxy's page or plain text, passed on as it is
  }
  return text;
}
