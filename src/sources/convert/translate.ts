/**
 * Whole lines of another text protocol (OpenTSDB telnet, Graphite) → line protocol, one line at a time, for the
 * streaming sources (tcp-connection.ts, udp.ts). What has no point is counted, and the first reason kept for the log.
 */
import type { PointLine } from './influx-point.js';

export interface Translated {
  /** Line protocol, every line ending in '\n' (timestamp optional: the source stamps it). */
  readonly body: Buffer;
  /** Input lines that became no point, other than those the protocol skips silently. */
  readonly dropped: number;
  readonly error?: string;
}

export interface LineTranslator {
  translate(lines: Buffer): Translated;
}

/** `convert` answers undefined for a line to skip without a word (an empty line, a Graphite NaN). */
export function lineTranslator(convert: (line: string) => PointLine | undefined): LineTranslator {
  return {
    translate(lines: Buffer): Translated {
      let out = '';
      let dropped = 0;
      let error: string | undefined;
      for (const line of lines.toString('utf8').split('\n')) {
        if (line === '' || line === '\r') continue;
        const p = convert(line);
        if (p === undefined) continue;
        if ('line' in p) out += p.line;
        else {
          dropped++;
          error ??= `${p.error}: ${line.slice(0, 256)}`;
        }
      }
      return { body: Buffer.from(out, 'utf8'), dropped, ...(error !== undefined ? { error } : {}) };
    },
  };
}
