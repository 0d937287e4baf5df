import assert from 'node:assert/strict';
import { test } from 'node:test';
import { C, FIELD_KEY, LINE_START, MEASUREMENT, STRING, TAG, VALUE_START, WHITESPACE } from '../../../src/lineprotocol/charclass.js';

const LOOP_TABLES = { MEASUREMENT, TAG, FIELD_KEY, STRING };

test("every table the scanner loops over stops at '\\n' (why its loops need no bounds checks)", () => {
  for (const [name, t] of Object.entries(LOOP_TABLES)) assert.notEqual(t[0x0a], C.PLAIN, name);
});

test('UTF-8 bytes are plain everywhere', () => {
  for (const [name, t] of Object.entries(LOOP_TABLES)) {
    for (let b = 0x80; b <= 0xff; b++) assert.equal(t[b], C.PLAIN, `${name}[${b}]`);
  }
});

test('delimiters per context', () => {
  const cls = (t: Uint8Array, ch: string): number => t[ch.charCodeAt(0)]!;
  assert.equal(cls(MEASUREMENT, ','), C.COMMA);
  assert.equal(cls(MEASUREMENT, ' '), C.SPACE);
  assert.equal(cls(MEASUREMENT, '='), C.PLAIN); // '=' needs no escape in a measurement
  assert.equal(cls(MEASUREMENT, '\\'), C.BACKSLASH);
  assert.equal(cls(TAG, '='), C.EQUALS);
  assert.equal(cls(FIELD_KEY, '"'), C.PLAIN); // quotes only matter in field values
  assert.equal(cls(STRING, '"'), C.QUOTE);
  assert.equal(cls(STRING, ','), C.PLAIN);
  assert.equal(cls(STRING, ' '), C.PLAIN);
});

test('a field value’s first byte decides its type', () => {
  const cls = (ch: string): number => VALUE_START[ch.charCodeAt(0)]!;
  for (const ch of '0123456789.-') assert.equal(cls(ch), C.NUMBER, ch);
  assert.equal(cls('"'), C.STRING);
  for (const ch of 'tTfF') assert.equal(cls(ch), C.BOOL, ch);
  for (const ch of 'nNI+e') assert.equal(cls(ch), C.OTHER, ch);
});

test('lines starting with a blank, a comment, a comma or a line end take the exact path', () => {
  for (const ch of [' ', '\t', '\0', '#', ',', '\n', '\r']) assert.notEqual(LINE_START[ch.charCodeAt(0)], 0, JSON.stringify(ch));
  for (const ch of 'cm"\\é') assert.equal(LINE_START[ch.charCodeAt(0)], 0, ch);
  assert.deepEqual(
    [...WHITESPACE.keys()].filter((b) => WHITESPACE[b] === 1),
    [0x00, 0x09, 0x20],
  );
});
