/**
 * The checkpoint of a repair: one JSON line per finished (written and verified) window, appended as each finishes,
 * so that a restarted repair skips them. A torn last line (kill -9 mid-append) is ignored: that window is redone,
 * which is harmless (writes are idempotent). The file is removed once a repair finishes with nothing left to do.
 */
import { appendFile, readFile, rm } from 'node:fs/promises';

export interface CheckpointKey {
  readonly source: string;
  readonly target: string;
  readonly db: string;
  readonly rp: string;
  readonly measurement?: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
}

export const checkpointKey = (k: CheckpointKey): string =>
  JSON.stringify([k.source, k.target, k.db, k.rp, k.measurement ?? '*', k.startNs.toString(), k.endNs.toString()]);

export class Checkpoint {
  private readonly done = new Set<string>();

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<Checkpoint> {
    const cp = new Checkpoint(file);
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      try {
        const rec = JSON.parse(line) as { done?: unknown };
        if (typeof rec.done === 'string') cp.done.add(rec.done);
      } catch {
        // a torn or damaged line: that window is simply redone
      }
    }
    return cp;
  }

  get size(): number {
    return this.done.size;
  }

  has(key: string): boolean {
    return this.done.has(key);
  }

  async add(key: string): Promise<void> {
    this.done.add(key);
    await appendFile(this.file, JSON.stringify({ done: key, at: new Date().toISOString() }) + '\n');
  }

  async remove(): Promise<void> {
    await rm(this.file, { force: true });
  }
}
