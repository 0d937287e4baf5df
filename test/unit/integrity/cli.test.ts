/**
 * `influx-relay missed` as an operator runs it: the built binary reads the ledger in the config's spool-dir.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeBatch } from '../../../src/batch.js';
import { BacklogTracker } from '../../../src/integrity/backlog.js';
import { LEDGER_FILE_NAME, MissedWindowLedger } from '../../../src/integrity/ledger.js';
import { RELAY_MAIN } from '../../helpers/relay.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RELAY_MAIN, 'missed', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir = '';
let config = '';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'missed-cli-'));
  const spool = path.join(dir, 'spool');
  config = path.join(dir, 'relay.toml');
  await writeFile(
    config,
    `spool-dir = ${JSON.stringify(spool)}\n[[http]]\nname = "h"\nbind-addr = "127.0.0.1:0"\noutput = [ { name = "b", location = "http://127.0.0.1:1/write" } ]\n`,
  );
  const ledger = await MissedWindowLedger.open({ file: path.join(spool, LEDGER_FILE_NAME), flushIntervalMs: 3_600_000 });
  const target = { db: 'telegraf', rp: 'autogen', precision: 'n' as const, credentials: {} };
  ledger.record('b', makeBatch(target, Buffer.from('cpu v=1 1700000000123456789\ncpu v=2 1700000060000000001\n'), 2), 'queue-full');
  ledger.record('b', makeBatch({ ...target, rp: '' }, Buffer.from('cpu v=1 1700000000000000000\n'), 1), 'dead-letter');
  const tracker = new BacklogTracker();
  ledger.trackBacklog('b', tracker);
  tracker.add(makeBatch({ ...target, db: 'other' }, Buffer.from('mem v=1 1700000100000000000\n'), 1));
  ledger.pollBacklogs();
  await ledger.close();
  // As if the relay were still running (or had crashed): no clean-close marker after the backlog note.
  const file = path.join(spool, LEDGER_FILE_NAME);
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '' && !l.includes('"clean"'));
  await writeFile(file, lines.join('\n') + '\n');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('influx-relay missed', () => {
  test('prints a table of windows with RFC 3339 ns bounds, and the noted memory backlog', async () => {
    const r = await run(['-config', config]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[1]!, /^BACKEND\s+DB\s+RP\s+FROM\s+TO\s+POINTS\s+REASON/);
    const queueFull = lines.find((l) => l.includes('queue-full'))!;
    assert.match(queueFull, /^b\s+telegraf\s+autogen\s+2023-11-14T22:13:20\.123456789Z\s+2023-11-14T22:14:20\.000000001Z\s+2\s+queue-full/);
    assert.match(lines.find((l) => l.includes('dead-letter'))!, /^b\s+telegraf\s+\(default\)\s+2023-11-14T22:13:20\.000000000Z/);
    assert.match(r.stdout, /memory backlog last noted/);
    assert.match(r.stdout, /\nb\s+other\s+autogen\s+2023-11-14T22:15:00\.000000000Z\s+2023-11-14T22:15:00\.000000000Z\s+1/);
  });

  test('--json gives every field for machines', async () => {
    const r = await run(['-config', config, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { clean: boolean; windows: Array<Record<string, unknown>>; backlog: unknown[] };
    assert.equal(doc.clean, false);
    assert.equal(doc.windows.length, 2);
    const w = doc.windows.find((x) => x['reason'] === 'queue-full')!;
    assert.equal(w['fromNs'], '1700000000123456789');
    assert.equal(w['toNs'], '1700000060000000001');
    assert.equal(w['points'], 2);
    assert.equal(doc.backlog.length, 1);
  });

  test('a config without spool-dir has no ledger: exit 2 with a reason; a bad flag: exit 2', async () => {
    const noSpool = path.join(dir, 'nospool.toml');
    await writeFile(noSpool, '[[http]]\nbind-addr = "127.0.0.1:0"\noutput = [ { location = "http://127.0.0.1:1/write" } ]\n');
    const r = await run(['-config', noSpool]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /neither ledger-dir nor spool-dir/);
    assert.equal((await run(['-bogus'])).code, 2);
  });

  test('an absent ledger file is an empty ledger', async () => {
    const r = await run(['-ledger', path.join(dir, 'none.jsonl')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no unrepaired missed windows/);
  });
});
