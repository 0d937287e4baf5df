/**
 * Lossless JSON parsing for InfluxDB answers: `epoch=ns` timestamps (and int64 fields) exceed 2^53, so JSON.parse
 * would round them. Node 20 has no JSON.parse source access (no `context.source` in revivers), hence this small
 * recursive-descent parser.
 * Integer literals that are not safe integers become bigint; everything else is as JSON.parse.
 */

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

export function parseJsonLossless(text: string): unknown {
  const p = new Parser(text);
  const v = p.value();
  p.ws();
  if (p.i !== text.length) p.fail('trailing characters');
  return v;
}

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new SyntaxError(`parseJsonLossless: ${what} at offset ${this.i}`);
  }

  ws(): void {
    while (this.i < this.s.length && WS.has(this.s.charCodeAt(this.i))) this.i++;
  }

  value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    return this.fail(c === undefined ? 'unexpected end' : `unexpected '${c}'`);
  }

  literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail(`expected ${word}`);
    this.i += word.length;
    return v;
  }

  number(): number | bigint {
    const start = this.i;
    let integer = true;
    while (this.i < this.s.length) {
      const c = this.s[this.i] as string;
      if (c === '.' || c === 'e' || c === 'E') integer = false;
      else if (!(c === '-' || c === '+' || (c >= '0' && c <= '9'))) break;
      this.i++;
    }
    const lit = this.s.slice(start, this.i);
    const n = Number(lit);
    if (Number.isNaN(n)) this.fail(`bad number '${lit}'`);
    if (integer && !Number.isSafeInteger(n)) return BigInt(lit);
    return n;
  }

  string(): string {
    const start = this.i;
    this.i++; // opening quote
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x5c) this.i += 2; // backslash: skip the escaped char
      else if (c === 0x22) {
        this.i++;
        return JSON.parse(this.s.slice(start, this.i)) as string;
      } else this.i++;
    }
    return this.fail('unterminated string');
  }

  array(): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
  }

  object(): Record<string, unknown> {
    this.i++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected key');
      const k = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') this.fail("expected ':'");
      Object.defineProperty(out, k, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') this.fail("expected ',' or '}'");
    }
  }
}
