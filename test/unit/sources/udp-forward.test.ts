import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitForMtu } from '../../../src/sources/udp-forward.js';

function lines(n: number, width: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const head = `m,i=${i} v=`;
    s += head + '1'.repeat(Math.max(1, width - head.length - 1)) + '\n';
  }
  return s;
}

describe('splitForMtu', () => {
  test('a body that fits is sent as it is (same Buffer)', () => {
    const body = Buffer.from('a v=1 1\nb v=2 2\n');
    const r = splitForMtu(body, 1024);
    assert.equal(r.datagrams.length, 1);
    assert.equal(r.datagrams[0], body);
    assert.equal(r.oversize, 0);
  });

  test('cuts only between lines, each datagram within the mtu, nothing lost or reordered', () => {
    for (const mtu of [30, 64, 100, 101, 512]) {
      const text = lines(200, 25) + lines(50, 7) + lines(20, 60);
      const r = splitForMtu(Buffer.from(text), mtu);
      for (const d of r.datagrams) {
        assert.ok(d.length <= mtu, `datagram of ${d.length} bytes over mtu ${mtu}`);
        assert.equal(d[d.length - 1], 0x0a, 'every datagram ends at a line end');
      }
      const expected = text.split('\n').filter((l) => l !== '' && l.length + 1 <= mtu);
      const got = Buffer.concat(r.datagrams).toString().split('\n').filter((l) => l !== '');
      assert.deepEqual(got, expected);
      assert.equal(r.oversize, text.split('\n').filter((l) => l !== '').length - expected.length);
    }
  });

  test('datagrams are packed: a datagram is only cut when the next line would not fit', () => {
    const text = lines(10, 10); // 10 lines of 10 bytes
    const r = splitForMtu(Buffer.from(text), 35);
    assert.deepEqual(r.datagrams.map((d) => d.length), [30, 30, 30, 10]);
  });

  test('a line larger than the mtu is dropped and counted; the lines around it still go', () => {
    const big = `big v="${'x'.repeat(200)}" 1\n`;
    const r = splitForMtu(Buffer.from(`a v=1 1\n${big}b v=2 2\n`), 100);
    assert.equal(r.oversize, 1);
    assert.deepEqual(r.datagrams.map(String), ['a v=1 1\n', 'b v=2 2\n']);
  });

  test('a newline inside a quoted string field does not end the line (InfluxDB line boundaries)', () => {
    const multi = 'log msg="first\nsecond\nthird" 1\n';
    const text = `a v=1 1\n${multi}b v=2 2\n`;
    const r = splitForMtu(Buffer.from(text), multi.length + 2);
    assert.ok(r.datagrams.some((d) => d.toString() === multi), r.datagrams.map(String).join('|'));
    assert.equal(Buffer.concat(r.datagrams).toString(), text);
  });
});
