/**
 * POST /api/v2/write, the InfluxDB 2.x write API as InfluxDB 1.8 serves it on top of 1.x databases:
 * - `bucket` is "db/rp" or "db" (the listener's default retention policy); `org` is accepted and ignored;
 * - `precision` is ns, us, ms or s (default ns);
 * - `Authorization: Token user:password` stands for 1.x credentials. 1.8 reads the token that way (after u/p in the
 *   query); our backends may be older (1.6 knows no Token scheme), so the header is passed through unchanged and
 *   the credentials are ALSO sent as u/p, which every 1.x reads first.
 * Then the shared write pipeline (scan → batch → fan-out), answered in the 2.x shape: 204, or
 * `{"code":"...","message":"..."}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Credentials } from '../batch.js';
import type { Precision } from '../lineprotocol/precision.js';
import { sendJson } from './respond.js';
import type { ParsedWrite, ClientDialect, WritePipelineOptions } from './write-pipeline.js';

/** The 2.x API's precisions (1.8 accepts no others here). */
const V2_PRECISIONS: Readonly<Record<string, Precision>> = { '': 'n', ns: 'n', us: 'u', ms: 'ms', s: 's' };

/** Error codes of the 2.x API, by HTTP status. */
const V2_CODES: Readonly<Record<number, string>> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  409: 'conflict',
  413: 'request too large',
  415: 'unsupported media type',
  422: 'unprocessable entity',
  429: 'too many requests',
  503: 'unavailable',
};

export function v2Code(status: number): string {
  return V2_CODES[status] ?? (status >= 500 ? 'internal error' : 'invalid');
}

function sendV2Error(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { code: v2Code(status), message }, headers);
}

/** 1.8's bucket2dbrp: "db/rp" → db and rp (split at the first '/'), "db" → db and the default rp. */
export function bucketToDbRp(bucket: string): { db: string; rp: string } | { error: string } {
  const slash = bucket.indexOf('/');
  if (slash < 0) {
    if (bucket === '') return { error: `bucket name "" is missing a slash; not in "database/retention-policy" format` };
    return { db: bucket, rp: '' };
  }
  const db = bucket.slice(0, slash);
  if (db === '') return { error: `bucket name ${JSON.stringify(bucket)} is in db/rp form but has an empty database` };
  return { db, rp: bucket.slice(slash + 1) };
}

/**
 * The credentials to pass on: the Authorization header unchanged, and u/p from the query or, as 1.8 reads
 * `Token user:password`, from the token (split at its first ':').
 */
export function v2Credentials(authorization: string | undefined, query: URLSearchParams): Credentials {
  let u = query.get('u');
  let p = query.get('p');
  if (!(u && p) && authorization) {
    const parts = authorization.split(' ');
    const token = parts[1];
    const colon = token?.indexOf(':') ?? -1;
    if (parts.length === 2 && parts[0] === 'Token' && token !== undefined && colon >= 0) {
      u = token.slice(0, colon);
      p = token.slice(colon + 1);
    }
  }
  return {
    ...(authorization ? { authorization } : {}),
    ...(u !== null ? { u } : {}),
    ...(p !== null ? { p } : {}),
  };
}

export const v2Dialect: ClientDialect = {
  parse(req: IncomingMessage, query: URLSearchParams, options: WritePipelineOptions): ParsedWrite {
    const bucket = query.get('bucket');
    if (!bucket) return { error: 'missing parameter: bucket' };
    const dbrp = bucketToDbRp(bucket);
    if ('error' in dbrp) return dbrp;
    const precisionParam = query.get('precision') ?? '';
    // Own keys only: 'constructor' or '__proto__' must not resolve to Object.prototype members.
    const precision = Object.hasOwn(V2_PRECISIONS, precisionParam) ? V2_PRECISIONS[precisionParam] : undefined;
    if (!precision) return { error: `invalid precision ${JSON.stringify(precisionParam)} (use ns, us, ms or s)` };
    return {
      target: {
        db: dbrp.db,
        rp: dbrp.rp || options.defaultRetentionPolicy,
        precision,
        credentials: v2Credentials(req.headers.authorization, query),
      },
      consistency: options.defaultConsistency,
    };
  },
  sendError: sendV2Error,
  sendBackendAnswer(res: ServerResponse, status: number, body: string, backend: string): void {
    sendV2Error(res, status, backendMessage(body, status, backend), { 'X-Relay-Backend': backend });
  },
};

/** A 1.x backend's `{"error":"..."}` (or plain text) as the message of a 2.x error. */
function backendMessage(body: string, status: number, backend: string): string {
  const trimmed = body.trim();
  try {
    const json: unknown = JSON.parse(trimmed);
    if (json && typeof json === 'object' && 'error' in json && typeof json.error === 'string') return json.error;
  } catch {
    // not JSON: the text itself
  }
  return trimmed || `backend ${backend} answered ${status}`;
}
