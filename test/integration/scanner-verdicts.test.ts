/**
 * The scanner's verdicts are InfluxDB's: every line of the scanner's tables (test/unit/lineprotocol/scanner-cases.ts:
 * escapes, quotes, NaN and Inf, integer overflow, missing fields, bad timestamps, unicode, tags with spaces, the
 * timestamp range per precision) is written alone to a real influxd 1.6.7 and scanned, and both must accept it or
 * both reject it; a rejected line gets the same error text from both (the scanner cuts a reported line at 1024
 * characters, influxd does not: past that, the reason is compared). The scanner's one deliberate deviation (a CR
 * before the newline) is asserted to still be one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Precision } from '../../src/lineprotocol/precision.js';
import { describeParseErrors, scanLines } from '../../src/lineprotocol/scanner.js';
import { post } from '../helpers/http.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { INVALID_LINES, TIMESTAMP_LIMITS, TIME_OUTSIDE_RANGE, VALID_LINES } from '../unit/lineprotocol/scanner-cases.js';

type Verdict = { readonly ok: true } | { readonly ok: false; readonly error: string };

let influxd: Influxd;
let db = 0;

before(async () => {
  influxd = await startInfluxd();
  await influxd.createDatabase(`v${db}`);
});
after(async () => {
  await influxd?.destroy();
});

async function influxdVerdict(line: string, precision: Precision): Promise<Verdict> {
  for (;;) {
    const res = await post(`${influxd.url}/write?db=v${db}&precision=${precision}`, line + '\n');
    if (res.status === 204) return { ok: true };
    const error = (res.json as { error?: string } | undefined)?.error;
    assert.equal(res.status, 400, `influxd: ${res.body}`);
    assert.ok(error !== undefined, `influxd: ${res.body}`);
    // A valid line whose field type differs from an earlier line's: write it where nothing came before.
    if (!error.includes('field type conflict')) return { ok: false, error };
    await influxd.createDatabase(`v${++db}`);
  }
}

function scannerVerdict(line: string, precision: Precision): Verdict & { reason?: string } {
  const r = scanLines(Buffer.from(line + '\n'), { precision, stamp: '1' });
  if (r.errorCount === 0 && r.points === 1) return { ok: true };
  return { ok: false, error: describeParseErrors(r), reason: r.errors[0]?.reason ?? '' };
}

async function assertSameVerdict(line: string, precision: Precision = 'n'): Promise<Verdict> {
  const theirs = await influxdVerdict(line, precision);
  const ours = scannerVerdict(line, precision);
  assert.equal(ours.ok, theirs.ok, `influxd ${theirs.ok ? 'accepts' : `rejects (${(theirs as { error: string }).error})`}, the scanner does not`);
  if (!theirs.ok && !ours.ok) {
    if (line.length <= 1024) assert.equal(ours.error, theirs.error);
    else assert.equal(`unable to parse '${line}': ${ours.reason}`, theirs.error);
  }
  return theirs;
}

const title = (line: string) => JSON.stringify(line.length > 60 ? line.slice(0, 60) + '…' : line);

describe('influxd 1.6.7 and the scanner agree', () => {
  describe('valid lines', () => {
    for (const [group, lines] of Object.entries(VALID_LINES)) {
      for (const line of lines) {
        test(`${group}: ${title(line)}`, async () => {
          assert.deepEqual(await assertSameVerdict(line), { ok: true }, 'the table says this line is valid');
        });
      }
    }
  });

  describe('invalid lines', () => {
    for (const [line, reason] of INVALID_LINES) {
      test(`${title(line)} → ${reason}`, async () => {
        const v = await assertSameVerdict(line);
        assert.equal(v.ok, false, 'the table says this line is invalid');
        assert.ok(!v.ok && v.error.endsWith(`': ${reason}`), `the table's reason is InfluxDB's: ${JSON.stringify(v)}`);
      });
    }
  });

  describe('timestamp range per precision', () => {
    for (const [precision, max, over] of TIMESTAMP_LIMITS) {
      test(`${precision}: ±${max} valid, ±${over} out of range`, async () => {
        for (const sign of ['', '-']) {
          assert.deepEqual(await assertSameVerdict(`m v=1 ${sign}${max}`, precision), { ok: true });
          const v = await assertSameVerdict(`m v=1 ${sign}${over}`, precision);
          assert.ok(!v.ok && v.error.endsWith(`': ${TIME_OUTSIDE_RANGE}`), JSON.stringify(v));
        }
      });
    }
  });

  test('our one deviation still is one: influxd rejects a CR before the newline, the scanner drops it', async () => {
    for (const line of ['a v=1 1\r', 'c v=t\r']) {
      const theirs = await influxdVerdict(line, 'n');
      assert.equal(theirs.ok, false, `influxd now accepts ${JSON.stringify(line)}: the deviation can go`);
      assert.deepEqual(scannerVerdict(line, 'n'), { ok: true });
    }
  });
});
