/**
 * The spool's errors. Each has a stable `code`; the fan-out answers both with 503 + Retry-After (the write was not
 * acknowledged, so a client retry is safe).
 */

/** A disk error (ENOSPC, EIO, ...) or a closed spool: the batch is not durable. `cause` holds the system error. */
export class SpoolError extends Error {
  readonly code: string = 'SPOOL_IO';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpoolError';
  }
}

/** Some backend's backlog would exceed `spool-max-mb`: nothing was written, for any backend. */
export class SpoolFullError extends SpoolError {
  override readonly code = 'SPOOL_FULL';
  constructor(
    readonly backend: string,
    readonly bytes: number,
    readonly capacityBytes: number,
  ) {
    super(`spool for backend ${backend} is full (${bytes} of ${capacityBytes} bytes, spool-max-mb)`);
    this.name = 'SpoolFullError';
  }
}

/** Another live process holds the spool directory (lock.ts): two relays must not append to one log. */
export class SpoolLockedError extends SpoolError {
  override readonly code = 'SPOOL_LOCKED';
  constructor(
    readonly dir: string,
    readonly pid: number | undefined,
  ) {
    super(`spool directory ${dir} is in use by another live relay${pid ? ` (pid ${pid}, per ${dir}/LOCK)` : ''}: each relay needs its own spool-dir`);
    this.name = 'SpoolLockedError';
  }
}
