/**
 * What to do with a backend's answer: one pure function of (status, body, error), table-tested.
 *
 * - ok:     2xx, delivered.
 * - drop:   the data itself is bad for this backend (parse error, partial write, field type conflict, points beyond
 *           retention, too large). Retrying cannot help; counted, and reported to a client still waiting.
 * - reject: the backend rejects the request (auth, missing database, retention policy, bucket or org). Not retried,
 *           reported to a client still waiting.
 * - retry:  the backend is unwell (5xx, 408, 429, network error, timeout). Kept and retried with backoff.
 *
 * A 5xx is retried unless its message is one InfluxDB sends for a fault of the request itself. InfluxDB 1.x answers
 * 500 for any write error it does not know as a client error, among them a `rp` naming no retention policy
 * (`retention policy not found: typo`) and a database dropped between its 404 check and the write (`database not
 * found: "d"`): the same bytes fail the same way forever, so retrying them would only block the queue behind them.
 * Its transient 500s (`timeout`, `write failed`, `engine: cache-max-memory-size exceeded`, a full disk) stay retried.
 *
 * InfluxDB 1.x answers `{"error":"..."}`, 2.x and 3.x `{"code":"...","message":"..."}`; the reasons below are read
 * from the message text, which either shape carries. 2.x adds 422 (points rejected for retention or schema: data,
 * so dropped) and 404s for a missing bucket or organization.
 */
export type Verdict = 'ok' | 'drop' | 'reject' | 'retry';

export interface Classified {
  readonly verdict: Verdict;
  /** Short, stable reason for metrics and logs. */
  readonly reason: string;
}

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** Error codes (or names) of a request that ran out of time; the Writer's own deadline is RELAY_WRITE_TIMEOUT. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['RELAY_WRITE_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'TimeoutError', 'ABORT_ERR']);

export function classify(answer: Answer | undefined, error?: { code?: unknown; name?: string }): Classified {
  if (!answer) {
    // A DOMException (an aborted signal's reason) has a numeric legacy `code`: its name is what says what it was.
    const code = typeof error?.code === 'string' ? error.code : (error?.name ?? 'unknown');
    const timedOut = TIMEOUT_CODES.has(code);
    return { verdict: 'retry', reason: timedOut ? 'timeout' : 'network' };
  }
  const { status, body } = answer;
  if (status >= 200 && status < 300) return { verdict: 'ok', reason: 'ok' };
  if (status === 408 || status === 429) return { verdict: 'retry', reason: `http-${status}` };
  if (status >= 500) {
    const permanent = status === 500 ? permanentServerError(body) : undefined;
    return permanent ? { verdict: 'reject', reason: permanent } : { verdict: 'retry', reason: `http-${status}` };
  }
  if (status === 401 || status === 403) return { verdict: 'reject', reason: 'auth' };
  if (status === 404) return { verdict: 'reject', reason: notFoundReason(body) };
  if (status === 413) return { verdict: 'drop', reason: 'too-large' };
  if (status === 400) return { verdict: 'drop', reason: dataReason(body) ?? 'bad-request' };
  if (status === 422) return { verdict: 'drop', reason: dataReason(body) ?? 'unprocessable' };
  // Other 4xx (405, 411, 415, ...) say our request is wrong for this endpoint: retrying the same bytes cannot help.
  return { verdict: 'reject', reason: `http-${status}` };
}

/**
 * A statement's answer (POST /query, batch.ts): InfluxDB 1.x answers 200 with `{"results":[...]}` and reports a
 * statement that failed as an `error` inside its result (`database not found`, `retention policy already exists`
 * with other settings, ...): delivered only when no result holds an error, else rejected with that body, not retried
 * (the same statement fails the same way again). 4xx (a parse error: 400, auth: 401/403) are rejected; 5xx, 408,
 * 429 and network errors are retried as writes are. 501 is the Writer's answer for a backend that takes no
 * statements (2.x).
 */
export function classifyStatement(answer: Answer | undefined, error?: { code?: unknown; name?: string }): Classified {
  if (!answer) return classify(answer, error);
  const { status, body } = answer;
  if (status === 501) return { verdict: 'reject', reason: 'unsupported' };
  if (status >= 200 && status < 300) return resultsFailed(body) ? { verdict: 'reject', reason: 'statement-error' } : { verdict: 'ok', reason: 'ok' };
  if (status === 408 || status === 429 || status >= 500) return { verdict: 'retry', reason: `http-${status}` };
  if (status === 401 || status === 403) return { verdict: 'reject', reason: 'auth' };
  return { verdict: 'reject', reason: status === 400 ? 'statement-error' : `http-${status}` };
}

/** Whether a 2xx /query answer reports an error, overall or for any statement. */
function resultsFailed(body: string): boolean {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return false; // a 2xx without JSON (a proxy's empty 204): nothing says it failed
  }
  if (!json || typeof json !== 'object') return false;
  if ('error' in json) return true;
  const results = 'results' in json && Array.isArray(json.results) ? (json.results as unknown[]) : [];
  return results.some((r) => r !== null && typeof r === 'object' && 'error' in r);
}

/** Why a backend rejected the data itself, from its message; undefined when the message says nothing known. */
function dataReason(body: string): string | undefined {
  // 1.x: "points beyond retention policy"; 2.x: "dropped N points outside retention policy".
  if (body.includes('beyond retention') || body.includes('outside retention')) return 'beyond-retention';
  if (body.includes('field type conflict') || body.includes('schema conflict')) return 'field-type-conflict';
  if (body.includes('partial write')) return 'partial-write';
  if (body.includes('unable to parse') || body.includes('failed to parse') || body.includes('parsing failed')) return 'parse-error';
  return undefined;
}

/**
 * InfluxDB 1.x's 500s that name a fault of the request (see the header), as influxd 1.6 words them; undefined for
 * any other 5xx. Only 500: a proxy's 502/503/504 says nothing about the request, whatever its page contains.
 */
function permanentServerError(body: string): string | undefined {
  if (body.includes('retention policy not found')) return 'retention-policy-not-found';
  if (body.includes('database not found')) return 'database-not-found';
  return undefined;
}

function notFoundReason(body: string): string {
  if (body.includes('database not found')) return 'database-not-found';
  // 2.x: `bucket "b" not found`, `organization name "o" not found`.
  if (body.includes('not found')) {
    if (body.includes('bucket')) return 'bucket-not-found';
    if (body.includes('organization')) return 'org-not-found';
  }
  return 'not-found';
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const trimmed = v.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
