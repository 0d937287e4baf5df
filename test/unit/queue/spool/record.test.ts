/** The record framing and its checksum: what recovery and catch-up rely on to tell a record from garbage. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeBatch, makeStatement } from '../../../../src/batch.js';
import { crc32 } from '../../../../src/queue/spool/crc32.js';
import { encodeHead, RecordDecoder, RecordTooLargeError } from '../../../../src/queue/spool/record.js';

describe('crc32', () => {
  test('matches the standard check values (zlib, PNG)', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
    assert.equal(crc32(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  });

  test('is the same in one call, in pieces, and at any alignment', () => {
    const big = Buffer.alloc(10_007);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const whole = crc32(big);
    for (const cut of [1, 3, 8, 1000, 10_006]) assert.equal(crc32(big.subarray(cut), crc32(big.subarray(0, cut))), whole);
    const shifted = Buffer.alloc(big.length + 3);
    big.copy(shifted, 3);
    assert.equal(crc32(shifted.subarray(3)), whole);
  });
});

describe('record', () => {
  const full = makeBatch(
    { db: 'tëst', rp: 'autogen', precision: 'ms', credentials: { authorization: 'Token abc', u: 'user', p: 'pässword' } },
    Buffer.from('m,t=1 v=1 1\nm v=2 2\n'),
    2,
    1_700_000_000_123,
  );

  test('round-trips target, credentials (absent stays absent), points, receivedAt and body', () => {
    const bare = makeBatch({ db: 'db', rp: '', precision: 'n', credentials: {} }, Buffer.from('x v=1 1\n'), 1, 5);
    const file = Buffer.concat([encodeHead(full), full.body, encodeHead(bare), bare.body]);
    const d = new RecordDecoder();
    const r1 = d.decode(file, 0, file.length);
    assert.equal(r1.kind, 'record');
    if (r1.kind !== 'record') return;
    assert.deepEqual(r1.batch, full);
    const r2 = d.decode(file, r1.length, file.length - r1.length);
    assert.equal(r2.kind, 'record');
    if (r2.kind !== 'record') return;
    assert.deepEqual(r2.batch, bare);
    assert.deepEqual(r2.batch.target.credentials, {});
    assert.equal(r1.length + r2.length, file.length);
  });

  test('any flipped byte is caught; a cut record asks for more, or is bad at the end of the file', () => {
    const rec = Buffer.concat([encodeHead(full), full.body]);
    for (let i = 0; i < rec.length; i++) {
      const bad = Buffer.from(rec);
      bad[i]! ^= 0x01;
      assert.notEqual(new RecordDecoder().decode(bad, 0, bad.length).kind, 'record', `byte ${i}`);
    }
    const cut = rec.subarray(0, rec.length - 1);
    assert.deepEqual(new RecordDecoder().decode(cut, 0, rec.length), { kind: 'short', length: rec.length });
    assert.equal(new RecordDecoder().decode(cut, 0, cut.length).kind, 'bad');
  });

  test('a statement keeps its flag (a bit of the flags field); a write record reads as a write, as before', () => {
    const stmt = makeStatement({ db: 'd', rp: '', precision: 'n', credentials: { u: 'a', p: 'b' } }, Buffer.from('CREATE DATABASE d'), 7);
    const file = Buffer.concat([encodeHead(full), full.body, encodeHead(stmt), stmt.body]);
    const d = new RecordDecoder();
    const r1 = d.decode(file, 0, file.length);
    assert.ok(r1.kind === 'record' && r1.batch.statement === undefined);
    const r2 = d.decode(file, r1.length, file.length - r1.length);
    assert.equal(r2.kind, 'record');
    if (r2.kind !== 'record') return;
    assert.equal(r2.batch.statement, true);
    assert.equal(r2.batch.body.toString(), 'CREATE DATABASE d');
    assert.deepEqual(r2.batch.target, stmt.target);
    assert.equal(r2.batch.receivedAt, 7);
    assert.notEqual(r2.batch.key, stmt.key, 'a decoded statement gets a key of its own: it never merges');
    assert.equal(full.body.length > 0 && file.readUInt16LE(10), 0, 'a write record holds 0 in the flags, as every older record does');
  });

  test('a target field over 64 KiB cannot be framed', () => {
    const huge = makeBatch({ db: 'x'.repeat(70_000), rp: '', precision: 'n', credentials: {} }, Buffer.from('m v=1 1\n'), 1);
    assert.throws(() => encodeHead(huge), RecordTooLargeError);
  });
});
