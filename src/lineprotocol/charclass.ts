/**
 * 256-entry byte-class tables for the line-protocol scanner. One table per scanning context, so each inner loop
 * is "advance while the class is 0" and only the bytes that matter in that context stop it.
 * UTF-8 needs no special case: every byte of a multi-byte sequence is >= 0x80 and is plain everywhere.
 */

/** ASCII codes the scanner compares against. */
export const CH = {
  NUL: 0x00,
  TAB: 0x09,
  LF: 0x0a,
  CR: 0x0d,
  SPACE: 0x20,
  QUOTE: 0x22,
  HASH: 0x23,
  COMMA: 0x2c,
  MINUS: 0x2d,
  PLUS: 0x2b,
  DOT: 0x2e,
  ZERO: 0x30,
  NINE: 0x39,
  EQUALS: 0x3d,
  E_UPPER: 0x45,
  F_UPPER: 0x46,
  N_UPPER: 0x4e,
  T_UPPER: 0x54,
  BACKSLASH: 0x5c,
  E_LOWER: 0x65,
  F_LOWER: 0x66,
  I_LOWER: 0x69,
  N_LOWER: 0x6e,
  T_LOWER: 0x74,
  U_LOWER: 0x75,
} as const;

/** Classes returned by the tables below; 0 always means "plain byte, keep going". */
export const C = {
  PLAIN: 0,
  COMMA: 1,
  SPACE: 2,
  EQUALS: 3,
  BACKSLASH: 4,
  LF: 5,
  QUOTE: 6,
  // value starts
  NUMBER: 7,
  STRING: 8,
  BOOL: 9,
  OTHER: 10,
} as const;

function table(entries: ReadonlyArray<readonly [number, number]>, fill: number = C.PLAIN): Uint8Array {
  const t = new Uint8Array(256).fill(fill);
  for (const [byte, cls] of entries) t[byte] = cls;
  return t;
}

/** Measurement: only an unescaped comma (tags follow) or space (fields follow) ends it; '=' is plain. */
export const MEASUREMENT = table([
  [CH.COMMA, C.COMMA],
  [CH.SPACE, C.SPACE],
  [CH.BACKSLASH, C.BACKSLASH],
  [CH.LF, C.LF],
]);

/** Tag keys and tag values: comma, space and '=' are delimiters. */
export const TAG = table([
  [CH.COMMA, C.COMMA],
  [CH.SPACE, C.SPACE],
  [CH.EQUALS, C.EQUALS],
  [CH.BACKSLASH, C.BACKSLASH],
  [CH.LF, C.LF],
]);

/** Field keys: same delimiters as tags; quotes are plain in a key (InfluxDB only honours them in values). */
export const FIELD_KEY = TAG;

/**
 * Inside a quoted string field value only the closing quote and the escape matter. A newline is content, but it
 * stops the loop too: every table stops at '\n', which is what lets the scanner skip bounds checks.
 */
export const STRING = table([
  [CH.QUOTE, C.QUOTE],
  [CH.BACKSLASH, C.BACKSLASH],
  [CH.LF, C.LF],
]);

/** First byte of a field value decides its type, as InfluxDB's scanFields does. */
export const VALUE_START = (() => {
  const t = table([], C.OTHER);
  for (let b = CH.ZERO; b <= CH.NINE; b++) t[b] = C.NUMBER;
  t[CH.DOT] = C.NUMBER;
  t[CH.MINUS] = C.NUMBER;
  t[CH.QUOTE] = C.STRING;
  t[CH.T_LOWER] = C.BOOL;
  t[CH.T_UPPER] = C.BOOL;
  t[CH.F_LOWER] = C.BOOL;
  t[CH.F_UPPER] = C.BOOL;
  return t;
})();

/**
 * First byte of a line: 0 when the fast path may take it. Whitespace (leading blanks, blank lines), '#'
 * (comments), ',' (missing measurement) and line ends go to the exact path.
 */
export const LINE_START = table([
  [CH.NUL, 1],
  [CH.TAB, 1],
  [CH.LF, 1],
  [CH.CR, 1],
  [CH.SPACE, 1],
  [CH.HASH, 1],
  [CH.COMMA, 1],
]);

/** InfluxDB's skipWhitespace: space, tab and NUL. */
export const WHITESPACE = table([
  [CH.SPACE, 1],
  [CH.TAB, 1],
  [CH.NUL, 1],
]);
