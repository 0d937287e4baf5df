/**
 * POST /write, InfluxDB 1.x: `db` (required), `rp`, `precision`, `consistency`, credentials as `u`/`p` or the
 * Authorization header (passed through to the backends unchanged). Errors are `{"error":"..."}`.
 */
import type { IncomingMessage } from 'node:http';
import type { Credentials } from '../batch.js';
import { parseConsistency } from '../fanout.js';
import { parsePrecision } from '../lineprotocol/precision.js';
import { sendBackendAnswer, sendError } from './respond.js';
import type { ParsedWrite, ClientDialect, WritePipelineOptions } from './write-pipeline.js';

export const v1Dialect: ClientDialect = {
  parse(req: IncomingMessage, query: URLSearchParams, options: WritePipelineOptions): ParsedWrite {
    const db = query.get('db');
    if (!db) return { error: 'missing parameter: db' };
    const precision = parsePrecision(query.get('precision'));
    if (!precision) return { error: `invalid precision "${query.get('precision')}": use n, ns, u, us, µ, ms, s, m or h` };
    const consistencyParam = query.get('consistency');
    const consistency = consistencyParam ? parseConsistency(consistencyParam) : options.defaultConsistency;
    if (!consistency) return { error: `invalid consistency "${consistencyParam}": use any, one, quorum or all` };
    return {
      target: { db, rp: query.get('rp') || options.defaultRetentionPolicy, precision, credentials: credentialsOf(req, query) },
      consistency,
    };
  },
  sendError,
  sendBackendAnswer,
};

/** The client's credentials as InfluxDB 1.x reads them (u/p parameters, the Authorization header): passed through. */
export function credentialsOf(req: IncomingMessage, query: URLSearchParams): Credentials {
  const authorization = req.headers.authorization;
  const u = query.get('u');
  const p = query.get('p');
  return {
    ...(authorization ? { authorization } : {}),
    ...(u !== null ? { u } : {}),
    ...(p !== null ? { p } : {}),
  };
}
