/**
 * What to do with a backend's answer: one pure function of (status, body, error), table-tested.
 *
 * - ok:     2xx, delivered.
 * - drop:   the data itself is bad for this backend (parse error, partial write, field type conflict, points beyond
 *           retention, too large). Retrying cannot help; counted, and reported to a client still waiting.
 * - reject: the request is refused (auth, missing database, bucket or org). Not retried, reported to a client
 *           still waiting.
 * - retry:  the backend is unwell (5xx, 408, 429, network error, timeout). Kept and retried with backoff.
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

export function classify(answer: Answer | undefined, error?: { code?: string; name?: string }): Classified {
  if (!answer) {
    const code = error?.code ?? error?.name ?? 'unknown';
    const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'TimeoutError' || code === 'ABORT_ERR';
    return { verdict: 'retry', reason: timedOut ? 'timeout' : 'network' };
  }
  const { status, body } = answer;
  if (status >= 200 && status < 300) return { verdict: 'ok', reason: 'ok' };
  if (status === 408 || status === 429) return { verdict: 'retry', reason: `http-${status}` };
  if (status >= 500) return { verdict: 'retry', reason: `http-${status}` };
  if (status === 401 || status === 403) return { verdict: 'reject', reason: 'auth' };
  if (status === 404) return { verdict: 'reject', reason: notFoundReason(body) };
  if (status === 413) return { verdict: 'drop', reason: 'too-large' };
  if (status === 400) return { verdict: 'drop', reason: dataReason(body) ?? 'bad-request' };
  if (status === 422) return { verdict: 'drop', reason: dataReason(body) ?? 'unprocessable' };
  // Other 4xx (405, 411, 415, ...) say our request is wrong for this endpoint: retrying the same bytes cannot help.
  return { verdict: 'reject', reason: `http-${status}` };
}

/** Why a backend refused the data itself, from its message; undefined when the message says nothing known. */
function dataReason(body: string): string | undefined {
  // 1.x: "points beyond retention policy"; 2.x: "dropped N points outside retention policy".
  if (body.includes('beyond retention') || body.includes('outside retention')) return 'beyond-retention';
  if (body.includes('field type conflict') || body.includes('schema conflict')) return 'field-type-conflict';
  if (body.includes('partial write')) return 'partial-write';
  if (body.includes('unable to parse') || body.includes('failed to parse') || body.includes('parsing failed')) return 'parse-error';
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
