/**
 * Reads the valid records of one segment file in order, from a position up to a limit, resynchronizing past
 * corrupt bytes: a record that fails its checks is skipped up to the next magic that starts a valid record.
 * Used by recovery (every segment at open) and by a backend view catching up from disk.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Batch } from '../../batch.js';
import { MAGIC, RecordDecoder } from './record.js';

export interface ScannedRecord {
  /** Log position of the record's first byte. */
  readonly pos: number;
  readonly length: number;
  readonly batch: Batch;
}

/** Bytes that are not valid records; `atEnd` when nothing valid follows them up to the limit (a torn tail). */
export interface CorruptRange {
  readonly from: number;
  readonly to: number;
  readonly why: string;
  readonly atEnd: boolean;
}

/** Read size: large sequential reads; a record larger than this is read whole. */
const CHUNK = 4 << 20;
const MIN_READ = 64 << 10;

export class SegmentReader {
  private buf: Buffer = Buffer.alloc(0);
  /** Log position of buf[0]. */
  private bufPos: number;
  private corruptFrom: number | undefined;
  private corruptWhy = '';
  private readonly decoder = new RecordDecoder();

  /**
   * @param base log position of the file's first byte
   * @param pos where to start reading (a log position)
   * @param limit log position to stop at (exclusive): the end of the committed bytes
   */
  constructor(
    private readonly fh: FileHandle,
    private readonly base: number,
    private pos: number,
    private limit: number,
    private readonly onCorrupt: (range: CorruptRange) => void,
  ) {
    this.bufPos = pos;
  }

  /** The next position to read; `limit` once done. */
  get position(): number {
    return this.pos;
  }

  get done(): boolean {
    return this.pos >= this.limit;
  }

  /** Reads the next records: at least one (unless done), and stops once `maxBytes` of records are read. */
  async read(maxBytes: number): Promise<ScannedRecord[]> {
    const out: ScannedRecord[] = [];
    let bytes = 0;
    while (this.pos < this.limit && (bytes < maxBytes || out.length === 0)) {
      const off = this.pos - this.bufPos;
      if (off >= this.buf.length) {
        // Read about what is asked for: a small request should not pin a large buffer.
        await this.fill(Math.min(CHUNK, Math.max(MIN_READ, maxBytes - bytes)));
        continue;
      }
      const d = this.decoder.decode(this.buf, off, this.limit - this.pos);
      if (d.kind === 'short') {
        await this.fill(Math.max(Math.min(CHUNK, Math.max(MIN_READ, maxBytes - bytes)), d.length));
        continue;
      }
      if (d.kind === 'record') {
        this.endCorrupt(false);
        out.push({ pos: this.pos, length: d.length, batch: d.batch });
        this.pos += d.length;
        bytes += d.length;
        continue;
      }
      if (this.corruptFrom === undefined) {
        this.corruptFrom = this.pos;
        this.corruptWhy = d.why;
      }
      const next = this.buf.indexOf(MAGIC, off + 1);
      // Not found: keep the last 3 bytes, a magic may straddle the chunk boundary.
      this.pos = next >= 0 ? this.bufPos + next : this.bufPos + Math.max(off + 1, this.buf.length - MAGIC.length + 1);
    }
    if (this.pos >= this.limit) {
      this.pos = this.limit;
      this.endCorrupt(true);
    }
    return out;
  }

  private endCorrupt(atEnd: boolean): void {
    if (this.corruptFrom === undefined) return;
    this.onCorrupt({ from: this.corruptFrom, to: this.pos, why: this.corruptWhy, atEnd });
    this.corruptFrom = undefined;
  }

  /** A fresh buffer each time: batches handed out keep views of the old one. */
  private async fill(size: number): Promise<void> {
    const want = Math.min(size, this.limit - this.pos);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(buf, got, want - got, this.pos - this.base + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    // A file shorter than expected (cut from outside): what is missing is the end of it.
    if (got < want) this.limit = this.pos + got;
    this.buf = got < want ? buf.subarray(0, got) : buf;
    this.bufPos = this.pos;
  }
}
