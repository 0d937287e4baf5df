import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanLines } from '../../../src/lineprotocol/scanner.js';
import { timestampsToSeconds } from '../../../src/backends/retime.js';

const sec = (text: string, factor: number): string => timestampsToSeconds(Buffer.from(text), factor).toString();

test('minutes and hours become exact seconds, line by line, the rest byte for byte', () => {
  assert.equal(sec('cpu,host=a v=1 28333333\ncpu v=2i 0\n', 60), 'cpu,host=a v=1 1699999980\ncpu v=2i 0\n');
  assert.equal(sec('m v=1 472222\n', 3600), 'm v=1 1699999200\n');
  assert.equal(sec('m v=1 -3\n', 3600), 'm v=1 -10800\n', 'before 1970');
});

test('only the timestamp is touched: numbers in fields, tags and strings stay, quoted newlines do not split lines', () => {
  const body = 'm,t=12 a=12,s="x 99\ny 7",b=-5 10\nm v=1e-5 20   \nm v=3 \t30\n';
  assert.equal(scanLines(Buffer.from(body), { precision: 'm' }).points, 3, 'all three lines are valid line protocol');
  assert.equal(sec(body, 60), 'm,t=12 a=12,s="x 99\ny 7",b=-5 600\nm v=1e-5 1200   \nm v=3 \t1800\n');
});

test('a line without a timestamp (which the scanner never emits) goes unchanged rather than misread', () => {
  assert.equal(sec('m v=12\nm v=-7\nm b=t\n', 60), 'm v=12\nm v=-7\nm b=t\n');
});

test('timestamps at the edge of InfluxDB\'s range stay exact (no double rounding)', () => {
  // The largest minute timestamp InfluxDB 1.x accepts, times 60.
  const maxMinutes = '153722867';
  assert.equal(scanLines(Buffer.from(`m v=1 ${maxMinutes}\n`), { precision: 'm' }).points, 1);
  assert.equal(sec(`m v=1 ${maxMinutes}\n`, 60), `m v=1 ${BigInt(maxMinutes) * 60n}\n`);
  assert.equal(sec('m v=1 999999999999999999\n', 3600), `m v=1 ${999999999999999999n * 3600n}\n`);
});

test('scanner output (stamped bodies) round-trips', () => {
  const scanned = scanLines(Buffer.from('a v=1\nb v=2 5\n'), { precision: 'h', stamp: '472222' }).body;
  assert.equal(timestampsToSeconds(scanned, 3600).toString(), 'a v=1 1699999200\nb v=2 18000\n');
});
