/**
 * Scanner behaviour, table-driven. The tables of lines and InfluxDB's reasons are in scanner-cases.ts, which
 * test/integration/scanner-verdicts.test.ts checks against a real influxd 1.6.7; the deliberate deviation (CRLF) and
 * the opt-in unsigned integers (off in influxd 1.x) are checked here only.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeParseErrors, scanLines } from '../../../src/lineprotocol/scanner.js';
import type { ScanOptions, ScanResult } from '../../../src/lineprotocol/scanner.js';
import { INVALID_LINES, TIME_OUTSIDE_RANGE, TIMESTAMP_LIMITS, VALID_LINES } from './scanner-cases.js';

const STAMP = '1234';

function scan(text: string | Buffer, opts: Partial<ScanOptions> = {}): ScanResult {
  const input = typeof text === 'string' ? Buffer.from(text) : text;
  return scanLines(input, { precision: 'n', stamp: STAMP, ...opts });
}

/** Asserts the line is valid and passes through byte for byte (and zero copy, the input being clean). */
function assertPassesThrough(line: string, opts: Partial<ScanOptions> = {}): void {
  const input = Buffer.from(line + '\n');
  const r = scan(input, opts);
  assert.deepEqual(r.errors, [], `${JSON.stringify(line)}: ${describeParseErrors(r)}`);
  assert.equal(r.points, 1);
  assert.equal(r.stamped, 0);
  assert.equal(r.body, input, `${JSON.stringify(line)} should be returned as the very same Buffer`);
}

function assertRejected(line: string, reason: string, opts: Partial<ScanOptions> = {}): void {
  const r = scan(line + '\n', opts);
  assert.equal(r.points, 0, `${JSON.stringify(line)} should be rejected`);
  assert.equal(r.errorCount, 1);
  assert.deepEqual(r.errors, [{ line: 1, text: line, reason }]);
  assert.equal(r.body.length, 0);
}

describe('valid lines pass through byte for byte', () => {
  for (const [group, lines] of Object.entries(VALID_LINES)) {
    describe(group, () => {
      for (const line of lines) test(JSON.stringify(line), () => assertPassesThrough(line));
    });
  }
});

describe('invalid lines are reported with InfluxDB’s reason', () => {
  for (const [line, reason] of INVALID_LINES) {
    test(`${JSON.stringify(line.length > 60 ? line.slice(0, 60) + '…' : line)} → ${reason}`, () => {
      if (line.length > 1024) {
        const r = scan(line + '\n');
        assert.equal(r.points, 0);
        assert.equal(r.errors[0]?.reason, reason);
        assert.equal(r.errors[0]?.text, line.slice(0, 1024));
      } else assertRejected(line, reason);
    });
  }
});

describe('timestamp range per precision', () => {
  for (const [precision, max, over] of TIMESTAMP_LIMITS) {
    test(`${precision}: ±${max} valid, ±${over} out of range`, () => {
      for (const sign of ['', '-']) {
        assertPassesThrough(`m v=1 ${sign}${max}`, { precision });
        assertRejected(`m v=1 ${sign}${over}`, TIME_OUTSIDE_RANGE, { precision });
      }
    });
  }

  test('a timestamp beyond int64 is a parse error whatever the precision', () => {
    assertRejected('m v=1 9223372036854775808', 'strconv.ParseInt: parsing "9223372036854775808": value out of range', {
      precision: 'h',
    });
  });
});

describe('stamping lines without a timestamp', () => {
  for (const precision of ['n', 'u', 'ms', 's', 'm', 'h'] as const) {
    test(`${precision}: the given stamp is appended`, () => {
      const r = scan('m v=1\nm v=2 5\nm,t=x a="s",b=t\n', { precision, stamp: '777' });
      assert.equal(r.body.toString(), 'm v=1 777\nm v=2 5\nm,t=x a="s",b=t 777\n');
      assert.equal(r.points, 3);
      assert.equal(r.stamped, 2);
    });
  }

  test('without a stamp, the current time in the request precision, the same for every line of the call', () => {
    const before = BigInt(Date.now());
    const r = scanLines(Buffer.from('a v=1\nb v=2\n'), { precision: 'ms' });
    const after = BigInt(Date.now());
    const m = /^a v=1 (\d+)\nb v=2 (\d+)\n$/.exec(r.body.toString());
    assert.ok(m, r.body.toString());
    assert.equal(m[1], m[2]);
    const t = BigInt(m[1]!);
    assert.ok(t >= before && t <= after, `${t} in [${before}, ${after}]`);

    const s = scanLines(Buffer.from('a v=1\n'), { precision: 's' });
    assert.match(s.body.toString(), /^a v=1 \d{10}\n$/);
    const n = scanLines(Buffer.from('a v=1\n'), { precision: 'n' });
    assert.match(n.body.toString(), /^a v=1 \d{19}\n$/);
  });

  test('trailing blanks are replaced by the stamp, CR dropped', () => {
    assert.equal(scan('m v=1  \nm v=2 \t\nm v=3\r\n').body.toString(), 'm v=1 1234\nm v=2 1234\nm v=3 1234\n');
  });

  test('a stamped line is rewritten but never re-serialized (escapes and strings kept as sent)', () => {
    const line = 'm\\ x,t\\=k=v\\,1 s="a\\"b\nc",f\\ k=1.50';
    assert.equal(scan(line + '\n').body.toString(), `${line} 1234\n`);
  });
});

describe('body shape', () => {
  test('a clean body is returned as the very same Buffer (zero copy)', () => {
    const input = Buffer.from('cpu,host=a v=1 1\nmem,host=a used=2i,free=3i 2\ndisk s="x y" 3\n');
    const r = scan(input);
    assert.equal(r.body, input);
    assert.equal(r.points, 3);
  });

  test('only the valid lines are kept, byte for byte, and the input is not modified', () => {
    const valid = ['a,t=1 v=1.50 1', 'b s="q\\"uote\\\\" 2', 'c\\ d f\\=k=TRUE 3', 'é,ü=ö x=-0i 4', 'e s="multi\nline" 5'];
    const text = `${valid[0]}\nbad\n${valid[1]}\nm v=1 1x\n${valid[2]}\n${valid[3]}\n,x v=1\n${valid[4]}\n`;
    const input = Buffer.from(text);
    const copy = Buffer.from(input);
    const r = scan(input);
    assert.equal(r.body.toString(), valid.map((l) => l + '\n').join(''));
    assert.equal(r.points, valid.length);
    assert.equal(r.errorCount, 3);
    assert.deepEqual(input, copy);
  });

  test('blank lines and comments are skipped', () => {
    const r = scan('\n\n   \n\t\n# comment\n   # indented comment\nm v=1 1\n\n#last');
    assert.equal(r.body.toString(), 'm v=1 1\n');
    assert.equal(r.points, 1);
    assert.equal(r.errorCount, 0);
  });

  test('leading spaces, tabs and NULs are trimmed', () => {
    assert.equal(scan('  a v=1 1\n\tb v=2 2\n\0c v=3 3\n').body.toString(), 'a v=1 1\nb v=2 2\nc v=3 3\n');
  });

  test('CRLF line ends become LF (our one deviation: InfluxDB 1.x rejects the CR)', () => {
    assert.equal(scan('a v=1 1\r\nb s="x" 2\r\nc v=t\r\n').body.toString(), 'a v=1 1\nb s="x" 2\nc v=t 1234\n');
    assert.equal(scan('a v=1 1\r').body.toString(), 'a v=1 1\n');
    assert.equal(scan('\r\n\r\n').points, 0);
  });

  test('a body without a trailing newline', () => {
    assert.equal(scan('m v=1 1').body.toString(), 'm v=1 1\n');
    assert.equal(scan('a v=1 1\nb v=2 2').body.toString(), 'a v=1 1\nb v=2 2\n');
    assert.equal(scan('a v=1 1\nb v=2').body.toString(), 'a v=1 1\nb v=2 1234\n');
    assert.equal(scan('a v=1 1\nb s="x\\\\"').body.toString(), 'a v=1 1\nb s="x\\\\" 1234\n');
    const bad = scan('a v=1 1\nb v=');
    assert.equal(bad.body.toString(), 'a v=1 1\n');
    assert.deepEqual(bad.errors, [{ line: 2, text: 'b v=', reason: 'missing field value' }]);
  });

  test('empty input', () => {
    const input = Buffer.alloc(0);
    const r = scan(input);
    assert.equal(r.body, input);
    assert.equal(r.points, 0);
    assert.equal(r.errorCount, 0);
  });

  test('nothing valid: an empty body', () => {
    const r = scan('bad\nworse\n');
    assert.equal(r.body.length, 0);
    assert.equal(r.points, 0);
  });
});

describe('InfluxDB line-boundary quirks are kept', () => {
  test('a quoted string may span lines', () => {
    const r = scan('m s="a\nb" 1\nm v=2 2\n');
    assert.equal(r.points, 2);
    assert.equal(r.body.toString(), 'm s="a\nb" 1\nm v=2 2\n');
  });

  test('an unterminated string swallows the rest of the body into one bad line', () => {
    const r = scan('m s="a\nm v=2 2\n');
    assert.equal(r.points, 0);
    assert.deepEqual(r.errors, [{ line: 1, text: 'm s="a\nm v=2 2', reason: 'unbalanced quotes' }]);
  });

  test('a comment containing a field-like quote swallows the following lines, as in InfluxDB', () => {
    const r = scan('# c a="q\nm v=3 3\nm v=4 4\n');
    assert.equal(r.points, 0);
    assert.equal(r.errorCount, 0);
  });

  test('a backslash before a newline joins the lines', () => {
    assert.deepEqual(scan('m v=1\\\nm v=2\n').errors, [{ line: 1, text: 'm v=1\\\nm v=2', reason: 'invalid number' }]);
  });
});

describe('partial batches', () => {
  const body = [
    'good v=1 1', //  1
    '', //            2
    'bad1', //        3
    '# comment', //   4
    'good s="two', // 5
    'lines" 2', //    6
    'bad2 v=', //     7
    'good v=3 3', //  8
    'bad3 v=1 x', //  9
  ].join('\n');

  test('good lines are kept; bad ones are reported with their line numbers', () => {
    const r = scan(body);
    assert.equal(r.body.toString(), 'good v=1 1\ngood s="two\nlines" 2\ngood v=3 3\n');
    assert.equal(r.points, 3);
    assert.equal(r.errorCount, 3);
    assert.deepEqual(r.errors, [
      { line: 3, text: 'bad1', reason: 'missing fields' },
      { line: 7, text: 'bad2 v=', reason: 'missing field value' },
      { line: 9, text: 'bad3 v=1 x', reason: 'bad timestamp' },
    ]);
    assert.equal(describeParseErrors(r), "unable to parse 'bad1': missing fields (and 2 other parse errors)");
  });

  test('one error: no parenthesis', () => {
    const r = scan('ok v=1 1\nm v=\n');
    assert.equal(describeParseErrors(r), "unable to parse 'm v=': missing field value");
  });

  test('no error: an empty description', () => {
    assert.equal(describeParseErrors(scan('ok v=1 1\n')), '');
  });

  test('maxErrors caps the kept errors, errorCount counts them all', () => {
    const many = Array.from({ length: 50 }, (_, i) => `bad${i}`).join('\n');
    const r = scan(many, { maxErrors: 3 });
    assert.equal(r.errors.length, 3);
    assert.equal(r.errorCount, 50);
    assert.deepEqual(
      r.errors.map((e) => e.line),
      [1, 2, 3],
    );
    assert.equal(describeParseErrors(r), "unable to parse 'bad0': missing fields (and 49 other parse errors)");
    assert.equal(scan(many).errors.length, 10);
    const none = scan(many, { maxErrors: 0 });
    assert.equal(none.errors.length, 0);
    assert.equal(describeParseErrors(none), 'unable to parse 50 lines');
  });

  test('the reported text is trimmed and cut to 1024 chars without splitting a character', () => {
    const r = scan(`  ${'é'.repeat(3000)}\n\t${'😀'.repeat(600)}\n`);
    assert.equal(r.errors[0]?.text, 'é'.repeat(1024));
    assert.equal(r.errors[1]?.text, '😀'.repeat(512));
    assert.equal(r.errors[1]?.line, 2);
  });
});

describe('unsigned integers (opt-in)', () => {
  test('accepted within uint64 when enabled', () => {
    assertPassesThrough('m v=1u,w=0u,x=18446744073709551615u,y=00018446744073709551615u 1', { unsigned: true });
  });

  test('rejected as InfluxDB would', () => {
    const o = { unsigned: true };
    assertRejected(
      'm v=18446744073709551616u',
      'unable to parse unsigned 18446744073709551616: strconv.ParseUint: parsing "18446744073709551616": value out of range',
      o,
    );
    assertRejected('m v=-1u', 'invalid number', o);
    assertRejected('m v=1.5u', 'invalid number', o);
    assertRejected('m v=1e3u', 'invalid number', o);
    assertRejected('m v=1ui', 'invalid number', o);
  });
});

describe('streaming use', () => {
  test('the same result for a body scanned whole or as chunks of complete lines', () => {
    const lines = ['a v=1 1', 'b v=2', 'bad', 'c s="x" 3', 'd v=4i 4'];
    const whole = scan(lines.join('\n') + '\n');
    const parts = [lines.slice(0, 2), lines.slice(2)].map((ls) => scan(ls.join('\n') + '\n'));
    assert.equal(Buffer.concat(parts.map((p) => p.body)).toString(), whole.body.toString());
    assert.equal(parts[0]!.points + parts[1]!.points, whole.points);
  });

  test('a subarray of a larger buffer is scanned within its bounds', () => {
    const big = Buffer.from('xxxx a v=1 1\nb v=2 2\nyyyy');
    const view = big.subarray(5, 21);
    const r = scan(view);
    assert.equal(r.body, view);
    assert.equal(r.points, 2);
  });
});
