/**
 * The fast path must never change a verdict: scanLines is compared with a reference that sends every line through
 * the exact path (the port of InfluxDB's parser, whose verdicts scanner.test.ts tables), on
 * thousands of random bodies built from the tricky parts of line protocol and then mutated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exactBlockEnd, exactParse, exactResult } from '../../../src/lineprotocol/exact-parser.js';
import { PRECISIONS } from '../../../src/lineprotocol/precision.js';
import type { Precision } from '../../../src/lineprotocol/precision.js';
import { fastPathFor, scanLines, useFastPath } from '../../../src/lineprotocol/scanner.js';
import { prng } from '../../helpers/prng.js';
import type { LineError, ScanOptions } from '../../../src/lineprotocol/scanner.js';

const LF = 0x0a;

/** The simplest correct scanner: InfluxDB's loop over blocks, the exact parser for each, a fresh output. */
function reference(input: Buffer, opts: ScanOptions): { body: Buffer; points: number; stamped: number; errors: LineError[] } {
  const parts: Buffer[] = [];
  const errors: LineError[] = [];
  let points = 0;
  let stamped = 0;
  let pos = 0;
  while (pos < input.length) {
    const blockEnd = exactBlockEnd(input, pos, input.length);
    let end = blockEnd;
    if (end > pos && input[end - 1] === LF) end--;
    if (end > pos && input[end - 1] === 0x0d) end--;
    let start = pos;
    while (start < end && (input[start] === 0x20 || input[start] === 0x09 || input[start] === 0)) start++;
    if (start < end && input[start] !== 0x23) {
      const reason = exactParse(input, start, end, opts.precision, opts.unsigned ?? false);
      if (reason !== undefined) {
        const line = 1 + input.subarray(0, pos).filter((b) => b === LF).length;
        const text = input.toString('utf8', start, end);
        const cut = (text.charCodeAt(1023) & 0xfc00) === 0xd800 ? 1023 : 1024;
        errors.push({ line, text: text.length > 1024 ? text.slice(0, cut) : text, reason });
      } else if (exactResult.hasTime) {
        points++;
        parts.push(input.subarray(start, end), Buffer.from('\n'));
      } else {
        points++;
        stamped++;
        parts.push(input.subarray(start, exactResult.fieldsEnd), Buffer.from(` ${opts.stamp}\n`));
      }
    }
    pos = blockEnd + 1;
  }
  return { body: Buffer.concat(parts), points, stamped, errors };
}

const NAMES = ['cpu', 'm', 'é', 'a\\ b', 'a\\,b', 'x=y', '"q"', 'm\\\\', '\\ m', '日本'];
const TAG_KEYS = ['host', 'k', 'a\\=b', 'a\\ b', 'é', 't', 'region', 'a\\\\'];
const TAG_VALUES = ['v', 'server01', 'a\\ b', '=x', 'é', 'a\\,b', '1', 'us-west'];
const FIELD_KEYS = ['f', 'usage_idle', 'a\\ b', 'a\\=b', '"k"', 'é', 'x\\\\', 'k\\,'];
const FIELD_VALUES = [
  '1', '-1.5', '.5', '1.', '84.0', '1e5', '-1E-5', '1e+300', '1e309', '1i', '-9223372036854775808i', '9223372036854775807i',
  '9223372036854775808i', '1u', '18446744073709551615u', '18446744073709551616u', 't', 'F', 'true', 'False', 'FALSE',
  '"s"', '"a\\"b"', '"a\\\\"', '"é\\n"', '"x,y z=1"', '"a\nb"', 'NaN', '1.7976931348623159e308', '0'.repeat(30) + '1',
  '9'.repeat(309), '-', '.', '1.1.1', 'tru', '"unterminated',
];
const TIMESTAMPS = [
  '', ' 1', ' -1', ' 1700000000000000000', ' 9223372036854775806', ' -9223372036854775806', ' 9223372036854775807',
  ' 9223372036854775', ' 9223372036854776', ' 9223372036', ' 9223372037', ' 153722867', ' 153722868', ' 2562047',
  ' 2562048', ' 99999999999999999999', ' -', ' 1 ', '  1', ' 1x', ' 007',
];
const NOISE = [',', ' ', '=', '\\', '"', '\n', '\r', '\t', '\0', '#', '-', '.', 'e', 'i', 'u', 't', '1', 'é'];

function randomLine(rnd: (n: number) => number, mutations: number): string {
  const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;
  let s = pick(NAMES);
  const tags = rnd(5);
  for (let j = 0; j < tags; j++) s += `,${pick(TAG_KEYS)}${j}=${pick(TAG_VALUES)}`;
  s += ' ';
  const fields = 1 + rnd(4);
  for (let j = 0; j < fields; j++) s += `${j ? ',' : ''}${pick(FIELD_KEYS)}${j}=${pick(FIELD_VALUES)}`;
  s += pick(TIMESTAMPS);
  const chars = [...s];
  for (let j = 0; j < mutations; j++) {
    const p = rnd(chars.length + 1);
    const op = rnd(3);
    if (op === 0) chars.splice(p, 0, pick(NOISE));
    else if (op === 1) chars.splice(p, 1);
    else chars[p] = pick(NOISE);
  }
  if (rnd(12) === 0) chars.unshift(pick([' ', '\t', '#', '  ', '\0']));
  return chars.join('');
}

function randomBody(rnd: (n: number) => number): string {
  const lines: string[] = [];
  const n = 1 + rnd(6);
  const mutations = rnd(3); // a third of the bodies are unmutated: mostly valid lines, the fast path's diet
  for (let i = 0; i < n; i++) lines.push(rnd(10) === 0 ? '' : randomLine(rnd, mutations === 0 ? 0 : rnd(mutations + 1)));
  const eol = ['\n', '\n', '\r\n', '\n\n'][rnd(4)]!;
  return lines.join(eol) + ['', eol, '\n'][rnd(3)]!;
}

// Both fast paths, the WebAssembly one (the default) and the JS one (its fallback), against the same reference.
for (const path of ['wasm', 'js'] as const) {
  describe(`${path} fast path agrees with the exact path`, () => {
    before(() => {
      useFastPath(path);
      assert.equal(fastPathFor(1), path);
    });
    after(() => useFastPath('auto'));

    for (const seed of [1, 2, 3, 4]) {
      test(`2000 random bodies (seed ${seed})`, () => {
        const rnd = prng(seed);
        for (let k = 0; k < 2000; k++) {
          const text = randomBody(rnd);
          const opts: ScanOptions = {
            precision: PRECISIONS[rnd(PRECISIONS.length)] as Precision,
            stamp: '42',
            maxErrors: 1000,
            unsigned: rnd(2) === 0,
          };
          const input = Buffer.from(text);
          const got = scanLines(input, opts);
          const want = reference(input, opts);
          const where = `seed ${seed} body ${k} ${JSON.stringify(text)} ${JSON.stringify(opts)}`;
          assert.equal(got.body.toString('latin1'), want.body.toString('latin1'), where);
          assert.equal(got.points, want.points, where);
          assert.equal(got.stamped, want.stamped, where);
          assert.deepEqual(got.errors, want.errors, where);
          assert.equal(got.errorCount, want.errors.length, where);
        }
      });
    }

    test('large bodies: every line rewritten (more plan entries than one WebAssembly run holds), bad lines between', () => {
      const rnd = prng(9);
      const lines: string[] = [];
      for (let i = 0; i < 12_000; i++) lines.push(i % 997 === 0 ? randomLine(rnd, 2) : `m,host=h${i % 7} v=${i}i,f=${i}.5${i % 3 === 0 ? '' : ' 17'}`);
      for (const eol of ['\n', '\r\n']) {
        const input = Buffer.from(lines.join(eol));
        const opts: ScanOptions = { precision: 'n', stamp: '42', maxErrors: 1000 };
        const got = scanLines(input, opts);
        const want = reference(input, opts);
        assert.equal(got.body.toString('latin1'), want.body.toString('latin1'));
        assert.equal(got.points, want.points);
        assert.equal(got.stamped, want.stamped);
        assert.deepEqual(got.errors, want.errors);
      }
    });
  });
}
