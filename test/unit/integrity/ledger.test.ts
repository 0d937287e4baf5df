import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { makeBatch, makeStatement, type Batch } from '../../../src/batch.js';
import { BacklogTracker } from '../../../src/integrity/backlog.js';
import { parseLedger } from '../../../src/integrity/ledger-file.js';
import { ledgerFile, MissedWindowLedger, type MissedWindowLedgerOptions } from '../../../src/integrity/ledger.js';
import { RelayMetrics } from '../../../src/telemetry/metrics.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ledger-test-'));
  dirs.push(dir);
  return path.join(dir, 'state', 'missed-windows.jsonl');
}

function batch(db: string, ...ts: number[]): Batch {
  const body = ts.map((t, i) => `m v=${i} ${t}\n`).join('');
  return makeBatch({ db, rp: '', precision: 's', credentials: {} }, Buffer.from(body), ts.length);
}

/** A controllable clock; flushes are driven by the tests (long interval), never by timers. */
function clock(start = Date.parse('2026-01-01T00:00:00Z')) {
  const c = { t: start, now: () => c.t };
  return c;
}

function options(file: string, c = clock(), extra: Partial<MissedWindowLedgerOptions> = {}): MissedWindowLedgerOptions {
  return { file, now: c.now, flushIntervalMs: 3_600_000, backlogIntervalMs: 3_600_000, ...extra };
}

const S = 1_000_000_000n;

describe('MissedWindowLedger', () => {
  test('drops for one (backend, db, rp, reason) merge into one window; others get their own', async () => {
    const file = await tempFile();
    const c = clock();
    const ledger = await MissedWindowLedger.open(options(file, c));
    try {
      ledger.record('a', batch('d', 100, 105), 'queue-full');
      c.t += 1000;
      ledger.record('a', batch('d', 90, 110, 95), 'queue-full');
      ledger.record('a', batch('other', 50), 'queue-full');
      ledger.record('a', batch('d', 200), 'dead-letter');
      ledger.record('b', batch('d', 100), 'queue-full');
      const a = ledger.list('a');
      assert.equal(a.length, 3);
      const merged = a.find((w) => w.db === 'd' && w.reason === 'queue-full')!;
      assert.equal(merged.fromNs, String(90n * S));
      assert.equal(merged.toNs, String(110n * S));
      assert.equal(merged.points, 5);
      assert.equal(merged.batches, 2);
      assert.equal(merged.firstAt, '2026-01-01T00:00:00.000Z');
      assert.equal(merged.lastAt, '2026-01-01T00:00:01.000Z');
      assert.equal(ledger.list().length, 4);
      assert.equal(ledger.unrepaired('a'), true);
      assert.equal(ledger.unrepaired('c'), false);
    } finally {
      await ledger.close();
    }
  });

  test('a drop long after the last one starts a new window', async () => {
    const file = await tempFile();
    const c = clock();
    const ledger = await MissedWindowLedger.open(options(file, c, { mergeGapMs: 60_000 }));
    try {
      ledger.record('a', batch('d', 100), 'queue-full');
      c.t += 61_000;
      ledger.record('a', batch('d', 200), 'queue-full');
      assert.equal(ledger.list('a').length, 2);
    } finally {
      await ledger.close();
    }
  });

  test('windows and repairs survive a reopen; a repaired window no longer counts; merging continues', async () => {
    const file = await tempFile();
    const c = clock();
    let ledger = await MissedWindowLedger.open(options(file, c));
    ledger.record('a', batch('d', 100), 'queue-full');
    ledger.record('b', batch('d', 100), 'queue-full');
    ledger.record('b', batch('e', 300), 'shutdown');
    await ledger.close();

    ledger = await MissedWindowLedger.open(options(file, c));
    try {
      assert.equal(ledger.list().length, 3);
      assert.equal(ledger.recovered.length, 0, 'a clean close converts nothing');
      const [bd] = ledger.list('b').filter((w) => w.db === 'd');
      assert.equal(await ledger.markRepaired('b', [bd!.id]), 1);
      assert.equal(ledger.unrepaired('b'), true, 'the shutdown window is still open');
      assert.equal(await ledger.markRepaired('b', (w) => w.reason === 'shutdown'), 1);
      assert.equal(ledger.unrepaired('b'), false);
      ledger.record('a', batch('d', 50), 'queue-full');
    } finally {
      await ledger.close();
    }

    ledger = await MissedWindowLedger.open(options(file, c));
    try {
      assert.equal(ledger.unrepaired('b'), false);
      const a = ledger.list('a');
      assert.equal(a.length, 1, 'the drop after the reopen merged into the open window');
      assert.equal(a[0]!.fromNs, String(50n * S));
      assert.equal(a[0]!.points, 2);
    } finally {
      await ledger.close();
    }
  });

  test('a torn last line (crash mid-append) is skipped, not a crash; earlier records hold', async () => {
    const file = await tempFile();
    const c = clock();
    const ledger = await MissedWindowLedger.open(options(file, c));
    ledger.record('a', batch('d', 100), 'queue-full');
    await ledger.flush();
    // A crash: no clean close, and half a record at the end.
    await appendFile(file, '{"type":"window","id":"abc","backend":"a","db":"d","rp":"","fromNs":"1');
    const reopened = await MissedWindowLedger.open(options(file, c));
    try {
      assert.equal(reopened.list().length, 1);
      assert.equal(reopened.list()[0]!.fromNs, String(100n * S));
    } finally {
      await reopened.close();
      await ledger.close();
    }
  });

  test('garbage lines anywhere are skipped', async () => {
    const file = await tempFile();
    const ledger = await MissedWindowLedger.open(options(file));
    await ledger.close();
    await writeFile(file, 'not json\n{"type":"window","id":1}\n\u0000\u0000\n' + (await readFile(file, 'utf8')));
    const reopened = await MissedWindowLedger.open(options(file));
    await reopened.close();
    assert.equal(parseLedger(await readFile(file, 'utf8')).skipped, 0, 'compaction rewrote a clean file');
  });

  test('records are appended in batches: nothing on disk until a flush, then once', async () => {
    const file = await tempFile();
    const ledger = await MissedWindowLedger.open(options(file));
    try {
      for (let i = 0; i < 100; i++) ledger.record('a', batch('d', 100 + i), 'queue-full');
      assert.equal(parseLedger(await readFile(file, 'utf8')).windows.size, 0);
      await ledger.flush();
      const text = await readFile(file, 'utf8');
      assert.equal(text.split('\n').filter((l) => l.includes('"window"')).length, 1);
      assert.equal(parseLedger(text).windows.size, 1);
    } finally {
      await ledger.close();
    }
  });

  test('the file is compacted when appends grow past the threshold', async () => {
    const file = await tempFile();
    const c = clock();
    const ledger = await MissedWindowLedger.open(options(file, c, { compactAfterBytes: 2000 }));
    try {
      for (let i = 0; i < 50; i++) {
        ledger.record('a', batch('d', 100 + i), 'queue-full');
        await ledger.flush();
      }
      const text = await readFile(file, 'utf8');
      assert.ok(text.length < 2500, `file stays small: ${text.length} bytes`);
      assert.equal(parseLedger(text).windows.get(ledger.list()[0]!.id)!.points, 50);
    } finally {
      await ledger.close();
    }
  });

  test('after an unclean stop, the last backlog note becomes unclean-stop windows, once', async () => {
    const file = await tempFile();
    const c = clock();
    const metrics = new RelayMetrics({ processMetrics: false });
    const ledger = await MissedWindowLedger.open(options(file, c));
    const tracker = new BacklogTracker();
    ledger.trackBacklog('a', tracker);
    const b1 = batch('d', 100, 120);
    const b2 = batch('d', 90);
    tracker.add(b1);
    tracker.add(b2);
    tracker.add(batch('e', 500));
    tracker.remove(batch('e', 500)); // e drained: no window for it
    ledger.pollBacklogs();
    await ledger.flush();
    // kill -9: no close. The next start finds no clean marker.
    const after = await MissedWindowLedger.open(options(file, c, { metrics }));
    try {
      assert.equal(after.recovered.length, 1);
      const [w] = after.list('a');
      assert.equal(w!.reason, 'unclean-stop');
      assert.equal(w!.db, 'd');
      assert.equal(w!.fromNs, String(90n * S));
      assert.equal(w!.toNs, String(120n * S));
      assert.equal(w!.points, 3);
      assert.equal(after.unrepaired('a'), true);
      assert.match(await metrics.registry.metrics(), /influx_relay_missed_points_total\{backend="a",reason="unclean-stop"\} 3/);
      assert.match(await metrics.registry.metrics(), /influx_relay_missed_windows\{backend="a"\} 1/);
    } finally {
      await after.close();
      await ledger.close();
    }
    // Converted once: the next open finds the window, not the backlog again.
    const again = await MissedWindowLedger.open(options(file, c));
    try {
      assert.equal(again.recovered.length, 0);
      assert.equal(again.list('a').length, 1);
    } finally {
      await again.close();
    }
  });

  test('a clean close discards the backlog note (its drops were recorded as such)', async () => {
    const file = await tempFile();
    const ledger = await MissedWindowLedger.open(options(file));
    const tracker = new BacklogTracker();
    ledger.trackBacklog('a', tracker);
    tracker.add(batch('d', 100));
    ledger.pollBacklogs();
    await ledger.flush();
    await ledger.close();
    const reopened = await MissedWindowLedger.open(options(file));
    try {
      assert.equal(reopened.recovered.length, 0);
      assert.equal(reopened.list().length, 0);
    } finally {
      await reopened.close();
    }
  });

  test('an emptied backlog is noted too, so a crash after it converts nothing', async () => {
    const file = await tempFile();
    const ledger = await MissedWindowLedger.open(options(file));
    const tracker = new BacklogTracker();
    ledger.trackBacklog('a', tracker);
    const b = batch('d', 100);
    tracker.add(b);
    ledger.pollBacklogs();
    await ledger.flush();
    tracker.remove(b);
    ledger.pollBacklogs();
    await ledger.flush();
    const reopened = await MissedWindowLedger.open(options(file));
    try {
      assert.equal(reopened.list().length, 0);
    } finally {
      await reopened.close();
      await ledger.close();
    }
  });

  test('metrics: the gauge counts unrepaired windows per backend (0 for declared ones), the counter points by reason', async () => {
    const file = await tempFile();
    const metrics = new RelayMetrics({ processMetrics: false });
    const ledger = await MissedWindowLedger.open(options(file, clock(), { metrics, backends: ['a', 'b'] }));
    try {
      ledger.record('a', batch('d', 1, 2), 'queue-full');
      ledger.record('a', batch('e', 1), 'queue-full');
      const text = await metrics.registry.metrics();
      assert.match(text, /influx_relay_missed_windows\{backend="a"\} 2/);
      assert.match(text, /influx_relay_missed_windows\{backend="b"\} 0/);
      assert.match(text, /influx_relay_missed_points_total\{backend="a",reason="queue-full"\} 3/);
      await ledger.markRepaired('a', () => true);
      assert.match(await metrics.registry.metrics(), /influx_relay_missed_windows\{backend="a"\} 0/);
    } finally {
      await ledger.close();
    }
  });

  test('close is idempotent; a record after close is not persisted and does not throw', async () => {
    const file = await tempFile();
    const ledger = await MissedWindowLedger.open(options(file));
    await Promise.all([ledger.close(), ledger.close()]);
    ledger.record('a', batch('d', 1), 'shutdown');
    const contents = parseLedger(await readFile(file, 'utf8'));
    assert.equal(contents.clean, true);
    assert.equal(contents.windows.size, 0);
  });

  test('ledgerFile: ledger-dir wins over spool-dir; none, no ledger', () => {
    assert.equal(ledgerFile({ spoolDir: '/s' }), '/s/missed-windows.jsonl');
    assert.equal(ledgerFile({ spoolDir: '/s', ledgerDir: '/l' }), '/l/missed-windows.jsonl');
    assert.equal(ledgerFile({}), undefined);
  });
});

describe('BacklogTracker', () => {
  test('per (db, rp): points balance, the range resets when the count reaches zero', () => {
    const t = new BacklogTracker();
    const a = batch('d', 100, 200);
    const b = batch('d', 50);
    t.add(a);
    t.add(b);
    assert.deepEqual(t.summary(), [{ db: 'd', rp: '', fromNs: 50n * S, toNs: 200n * S, points: 3 }]);
    t.remove(b);
    // A conservative superset: the range does not shrink on removal.
    assert.deepEqual(t.summary(), [{ db: 'd', rp: '', fromNs: 50n * S, toNs: 200n * S, points: 2 }]);
    t.remove(a);
    assert.deepEqual(t.summary(), []);
    t.add(batch('d', 300));
    assert.deepEqual(t.summary(), [{ db: 'd', rp: '', fromNs: 300n * S, toNs: 300n * S, points: 1 }]);
    const v = t.version;
    t.clear();
    assert.ok(t.version > v);
    assert.deepEqual(t.summary(), []);
  });

  test('a statement (no points) passing through the queue leaves the writes\' entry alone', () => {
    const t = new BacklogTracker();
    const stmt = makeStatement({ db: 'd', rp: '', precision: 'n', credentials: {} }, Buffer.from('CREATE DATABASE d'));
    t.add(stmt);
    t.add(batch('d', 100));
    t.remove(stmt);
    assert.deepEqual(t.summary(), [{ db: 'd', rp: '', fromNs: 100n * S, toNs: 100n * S, points: 1 }]);
  });
});
