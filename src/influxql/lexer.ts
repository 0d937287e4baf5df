/**
 * An InfluxQL lexer, enough to find where statements start and which keywords they hold, as influxd's own scanner
 * (influxql/scanner.go) would see them: a keyword inside a string, a quoted identifier, a regex or a comment is not a
 * keyword.
 *
 * - Comments: `-- ...` to the end of the line, `/* ... *\/` (unterminated: to the end).
 * - Strings '...' and quoted identifiers "..." with backslash escapes (unterminated: to the end).
 * - Regex literals /.../ where InfluxQL expects one: after `=~`, `!~` and FROM (elsewhere '/' is division).
 * - Bare words (letters, digits, '_', and any non-ASCII letter): keywords are compared case-insensitively by the
 *   caller, so a word's text is upper-cased once here (as influxd's Go folds it: upperLikeGo).
 * - `;` separates statements.
 * Anything else is punctuation, one token per character (two for =~ and !~). The lexer never throws: text it cannot
 * make sense of still yields tokens, and influxd answers the statement's syntax error itself.
 */

export type TokenKind = 'word' | 'string' | 'ident' | 'regex' | 'number' | 'semicolon' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** Upper-cased for words (keywords compare case-insensitively); the raw text otherwise. */
  readonly text: string;
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isWordStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c > '\u007f';
const isWordPart = (c: string): boolean => isWordStart(c) || isDigit(c);

/** The end (exclusive) of a quoted run opened at `start` by `quote`: past the closing quote, or the end of text. */
function quotedEnd(s: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\\') i += 2;
    else if (c === quote) return i + 1;
    else if (c === '\n' && quote !== '/') return i; // influxd ends a string at a newline (a bad string)
    else i++;
  }
  return s.length;
}

export function lex(s: string): Token[] {
  const out: Token[] = [];
  const prev = (): Token | undefined => out[out.length - 1];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    const next = s[i + 1];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === '-' && next === '-') {
      const nl = s.indexOf('\n', i);
      i = nl < 0 ? s.length : nl + 1;
    } else if (c === '/' && next === '*') {
      const close = s.indexOf('*/', i + 2);
      i = close < 0 ? s.length : close + 2;
    } else if (c === '\'' || c === '"') {
      const end = quotedEnd(s, i, c);
      out.push({ kind: c === '\'' ? 'string' : 'ident', text: s.slice(i, end) });
      i = end;
    } else if (c === '/' && regexExpected(prev())) {
      const end = quotedEnd(s, i, '/');
      out.push({ kind: 'regex', text: s.slice(i, end) });
      i = end;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < s.length && isWordPart(s[j]!)) j++;
      out.push({ kind: 'word', text: upperLikeGo(s.slice(i, j)) });
      i = j;
    } else if (isDigit(c) || (c === '.' && next !== undefined && isDigit(next))) {
      let j = i + 1;
      while (j < s.length && (isWordPart(s[j]!) || s[j] === '.')) j++; // 10, 1.5, 10s, 1e3: one token
      out.push({ kind: 'number', text: s.slice(i, j) });
      i = j;
    } else if (c === ';') {
      out.push({ kind: 'semicolon', text: ';' });
      i++;
    } else if ((c === '=' || c === '!') && next === '~') {
      out.push({ kind: 'punct', text: c + next });
      i += 2;
    } else {
      out.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return out;
}

/**
 * A word upper-cased so that it equals a keyword exactly when influxd's lookup (Go's strings.ToLower) says so: Go
 * folds U+0130 (İ) to i and U+212A (Kelvin) to k, so `İNTO` is INTO to influxd. (JavaScript folds a few more, such
 * as ı to I: a word read as a keyword too often only sends a read to every replica.)
 */
function upperLikeGo(word: string): string {
  return word.replace(/\u0130/g, 'I').replace(/\u212a/g, 'K').toUpperCase();
}

function regexExpected(prev: Token | undefined): boolean {
  return prev !== undefined && ((prev.kind === 'punct' && (prev.text === '=~' || prev.text === '!~')) || (prev.kind === 'word' && prev.text === 'FROM'));
}

/** The statements of a query: its tokens split at `;`, empty statements left out. */
export function statements(q: string): Token[][] {
  const all: Token[][] = [];
  let current: Token[] = [];
  for (const t of lex(q)) {
    if (t.kind !== 'semicolon') current.push(t);
    else if (current.length > 0) {
      all.push(current);
      current = [];
    }
  }
  if (current.length > 0) all.push(current);
  return all;
}
