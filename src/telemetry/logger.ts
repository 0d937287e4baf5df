/**
 * Logging: pino JSON to stdout, one child logger per component, credentials redacted.
 * Credentials can reach a log line through URLs (`u=`/`p=` query, `user:pass@` in a location) and headers.
 */
import pino, { type Logger } from 'pino';
import type { LogLevel as ConfigLogLevel } from '../config/enums.js';

export type { Logger };
export type LogLevel = ConfigLogLevel | 'silent';

export function createLogger(level: LogLevel = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['authorization', 'headers.authorization', '*.authorization', 'u', 'p', '*.u', '*.p', 'password', '*.password', 'httpPass'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

// One set of redaction rules for URLs and free text (backend answers): see redact.ts.
export { redactCredentials, redactUrl } from './redact.js';

/**
 * Lets a repeated error through once per interval per key; counts what it held back, so the next line can say so.
 * The one throttled-log helper (backend errors, dropped UDP/TCP batches, spool drops): a dead backend or a flood of
 * bad datagrams would otherwise log once per retry or per packet.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly intervalMs = 10_000) {}

  /** Returns undefined to suppress, or the number of lines suppressed since the last one let through. */
  admit(key: string, now = Date.now()): number | undefined {
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }

  /** Logs `msg` unless `key` was logged within the interval; the line says how many were held back (`suppressed`). */
  log(logger: Logger, level: 'warn' | 'error', key: string, fields: Record<string, unknown>, msg: string, now = Date.now()): void {
    const suppressed = this.admit(key, now);
    if (suppressed === undefined) return;
    logger[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  }
}
