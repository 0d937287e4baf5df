import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineSplitter } from '../../../src/sources/line-splitter.js';

/** Feeds chunks; returns what came out (as text) and how many lines were found too long. */
function run(chunks: string[], maxLineBytes = 64, end = false): { out: string; tooLong: number; carried: number } {
  let tooLong = 0;
  const s = new LineSplitter(maxLineBytes, () => tooLong++);
  const parts: Buffer[] = [];
  let added = 0;
  for (const c of chunks) added += s.push(Buffer.from(c), parts);
  for (const p of parts) assert.equal(p[p.length - 1], 0x0a, 'every segment holds whole lines');
  const out = Buffer.concat(parts);
  assert.equal(added, out.length, 'push() reports the bytes it appended');
  const carried = s.carried;
  if (end) {
    const tail = s.end();
    return { out: out.toString() + (tail?.toString() ?? ''), tooLong, carried };
  }
  return { out: out.toString(), tooLong, carried };
}

describe('LineSplitter', () => {
  test('only complete lines come out; a partial line is carried to the next chunk', () => {
    assert.deepEqual(run(['a v=1\nb v', '=2\nc v=3']), { out: 'a v=1\nb v=2\n', tooLong: 0, carried: 5 });
  });

  test('a line spread over many chunks, and a chunk with no newline at all', () => {
    assert.equal(run(['m', ' v', '=', '1', '\n']).out, 'm v=1\n');
    assert.equal(run(['m v=1']).out, '');
  });

  test('byte-by-byte feeding gives exactly the input back', () => {
    const text = 'cpu,host=a value=1 1\n\nmem free=2i\r\ndisk x="a b" 3\n';
    assert.equal(run([...text]).out, text);
  });

  test('end() hands over an unterminated last line with a newline added', () => {
    assert.equal(run(['a v=1\nb v=2'], 64, true).out, 'a v=1\nb v=2\n');
    assert.equal(run(['a v=1\n'], 64, true).out, 'a v=1\n');
  });

  test('a line longer than the limit inside one chunk is dropped; its neighbours are kept', () => {
    const long = 'x'.repeat(20);
    const r = run([`a v=1\n${long}\nb v=2\n${long}\nc v=3\n`], 10);
    assert.deepEqual(r, { out: 'a v=1\nb v=2\nc v=3\n', tooLong: 2, carried: 0 });
  });

  test('a line exactly at the limit is kept', () => {
    assert.equal(run(['0123456789\n'], 10).out, '0123456789\n');
    assert.equal(run(['01234', '56789', '\n'], 10).out, '0123456789\n');
  });

  test('a too-long line growing over several chunks is discarded up to its newline, counted once', () => {
    const r = run(['ok v=1\nyyyyyy', 'yyyyyyyy', 'yyyy', 'yy\nok v=2\n', 'tail'], 10);
    assert.deepEqual(r, { out: 'ok v=1\nok v=2\n', tooLong: 1, carried: 4 });
  });

  test('a carried head plus the next chunk that together exceed the limit', () => {
    const r = run(['abcdefgh', 'ijkl\nok v=1\n'], 10);
    assert.deepEqual(r, { out: 'ok v=1\n', tooLong: 1, carried: 0 });
  });

  test('the carry never exceeds the limit (memory per connection is bounded)', () => {
    let tooLong = 0;
    const s = new LineSplitter(1024, () => tooLong++);
    const out: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      s.push(Buffer.alloc(100, 0x61), out);
      assert.ok(s.carried <= 1024);
    }
    assert.equal(out.length, 0);
    assert.equal(tooLong, 1);
    s.push(Buffer.from('aaa\nm v=1\n'), out);
    assert.equal(out.length, 1);
    assert.equal(Buffer.concat(out).toString(), 'm v=1\n');
  });
});
