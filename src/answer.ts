/**
 * The client's answer, decided in one place: how long it waits (the answer deadline) and what every backend's
 * fate makes of it (the decision table, docs/operations.md). Never a function of which backend was fastest.
 *
 * 1. some backend can neither deliver nor queue the batch (buffering off and the write failed, shutting down)
 *                                                                       → 503 + Retry-After
 * 2. else some backend rejected it with a non-retryable 4xx              → that status and body (first such backend
 *                                                                         in config order)
 * 3. else fewer backends delivered (by the answer deadline) than the consistency level needs → 503 + Retry-After
 *    (the batch stays queued everywhere; a client retry is harmless because writes are idempotent)
 * 4. else                                                               → 204
 * A backend still in flight at the deadline counts as queued: the batch is safe in its queue, and a hung backend
 * must not hold every client for its whole `timeout`. A batch a backend missed (drop-oldest) counts as queued too:
 * the relay recorded exactly what that backend lacks.
 */
import type { Fate, Ticket } from './backends/backend.js';
import type { Consistency } from './config/enums.js';

export type { Consistency } from './config/enums.js';

export type FanOutResult =
  /** `body`: for a statement, the answer of the first backend (config order) that delivered it. */
  | { readonly kind: 'accepted'; readonly status: 204; readonly delivered: number; readonly body?: string }
  | { readonly kind: 'unavailable'; readonly status: 503; readonly error: string; readonly retryAfterSeconds: number }
  | { readonly kind: 'rejected'; readonly status: number; readonly backendBody: string; readonly backend: string };

/** Seconds a client is asked to wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 1;

export function unavailable(error: string): FanOutResult {
  return { kind: 'unavailable', status: 503, error, retryAfterSeconds: RETRY_AFTER_SECONDS };
}

export function parseConsistency(value: string | null | undefined): Consistency | undefined {
  return value === 'any' || value === 'one' || value === 'quorum' || value === 'all' ? value : undefined;
}

/** How many backends must have delivered: 'any' counts a queued batch as accepted. */
export function requiredDeliveries(level: Consistency, backends: number): number {
  switch (level) {
    case 'any':
      return 0;
    case 'one':
      return Math.min(1, backends);
    case 'quorum':
      return Math.floor(backends / 2) + 1;
    case 'all':
      return backends;
  }
}

/** Waits for every ticket's fate, or the deadline (then late fates count as what the ticket says), and decides. */
export async function answer(names: readonly string[], tickets: readonly Ticket[], level: Consistency, deadlineMs: number): Promise<FanOutResult> {
  const fates: (Fate | undefined)[] = tickets.map(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, deadlineMs);
  });
  const each = tickets.map((t, i) =>
    t.late === undefined
      ? t.fate.then((f) => void (fates[i] = f))
      : Promise.race([t.fate.then((f) => void (fates[i] = f)), deadline]),
  );
  await Promise.all(each);
  clearTimeout(timer);
  return decide(
    names,
    tickets.map((t, i) => {
      const f = fates[i];
      if (f) return f;
      t.cancel();
      return t.late!;
    }),
    level,
  );
}

/** The pure decision table, exported for tests. */
export function decide(names: readonly string[], fates: readonly Fate[], level: Consistency): FanOutResult {
  const failures: string[] = [];
  let rejected: { status: number; body: string; backend: string } | undefined;
  let delivered = 0;
  let body: string | undefined;
  fates.forEach((f, i) => {
    if (f.kind === 'failed') failures.push(f.detail);
    else if (f.kind === 'rejected') rejected ??= { status: f.status, body: f.body, backend: names[i] ?? '' };
    else if (f.kind === 'delivered') {
      delivered++;
      body ??= f.body;
    }
  });
  if (failures.length > 0) return unavailable(`write not accepted by every backend: ${failures.join('; ')}`);
  if (rejected) return { kind: 'rejected', status: rejected.status, backendBody: rejected.body, backend: rejected.backend };
  const required = requiredDeliveries(level, fates.length);
  if (delivered < required) {
    return unavailable(
      `consistency ${level} not met: ${delivered} of ${fates.length} backends delivered within the answer deadline ` +
        `(${required} required); the write stays queued for every backend, and retrying it is safe`,
    );
  }
  return body === undefined ? { kind: 'accepted', status: 204, delivered } : { kind: 'accepted', status: 204, delivered, body };
}
