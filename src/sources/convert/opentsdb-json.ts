/**
 * The body of OpenTSDB's `POST /api/put`, decoded as InfluxDB 1.6's handler does with Go's encoding/json: the first
 * byte says array (`[`) or object (`{`); only the first JSON value is read (trailing bytes are ignored); keys match
 * the `point` struct's fields case-insensitively, the last duplicate wins, unknown keys are ignored, `null` leaves
 * the zero value; `timestamp` must be an int64 literal, `value` a float64 in range, `tags` an object of strings. Any
 * decode error refuses the whole body, with the handler's words.
 *
 * A small parser of its own rather than JSON.parse: int64 timestamps must not pass through a float64.
 */
import type { JsonPoint } from './opentsdb.js';
import { parseGoInt } from './go-text.js';

export type PutBody = { readonly points: JsonPoint[] } | { readonly error: string };

type Json = null | boolean | string | { readonly num: string } | Json[] | { readonly obj: [string, Json][] };

class JsonSyntaxError extends Error {}

class Reader {
  i = 0;
  constructor(private readonly s: string) {}

  private ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++;
  }

  private fail(): never {
    throw new JsonSyntaxError(`invalid JSON at offset ${this.i}`);
  }

  value(): Json {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail();
    this.i += m[0].length;
    return { num: m[0] };
  }

  private object(): Json {
    this.i++;
    const obj: [string, Json][] = [];
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return { obj };
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail();
      const k = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') this.fail();
      obj.push([k, this.value()]);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return { obj };
      if (c !== ',') this.fail();
    }
  }

  private array(): Json[] {
    this.i++;
    const arr: Json[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return arr;
    }
    for (;;) {
      arr.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return arr;
      if (c !== ',') this.fail();
    }
  }

  private string(): string {
    const start = ++this.i;
    let out = '';
    let from = start;
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (Number.isNaN(c) || c < 0x20) this.fail();
      if (c === 0x22) {
        out += this.s.slice(from, this.i++);
        return out;
      }
      if (c === 0x5c) {
        out += this.s.slice(from, this.i);
        const e = this.s[this.i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(this.s.slice(this.i + 2, this.i + 6), 16));
          this.i += 6;
        } else {
          this.fail();
        }
        from = this.i;
        continue;
      }
      this.i++;
    }
  }
}

class TypeMismatch extends Error {}

function isObj(v: Json): v is { obj: [string, Json][] } {
  return typeof v === 'object' && v !== null && 'obj' in v;
}

function isNum(v: Json): v is { num: string } {
  return typeof v === 'object' && v !== null && 'num' in v;
}

/** One element into handler.go's `point` (zero values where absent or null). */
function toPoint(v: Json): JsonPoint {
  let metric = '';
  let timestamp = 0n;
  let value = 0;
  let tags = new Map<string, string>();
  if (v === null) return { metric, timestamp, value, tags };
  if (!isObj(v)) throw new TypeMismatch('not an object');
  for (const [key, x] of v.obj) {
    const k = key.toLowerCase();
    if (x === null) {
      if (k === 'tags') tags = new Map();
      continue;
    }
    if (k === 'metric') {
      if (typeof x !== 'string') throw new TypeMismatch('metric');
      metric = x;
    } else if (k === 'timestamp') {
      const t = isNum(x) ? parseGoInt(x.num) : undefined;
      if (!t?.ok) throw new TypeMismatch('timestamp');
      timestamp = t.value;
    } else if (k === 'value') {
      const f = isNum(x) ? Number(x.num) : NaN;
      if (!Number.isFinite(f)) throw new TypeMismatch('value');
      value = f;
    } else if (k === 'tags') {
      if (!isObj(x)) throw new TypeMismatch('tags');
      for (const [tk, tv] of x.obj) {
        if (tv !== null && typeof tv !== 'string') throw new TypeMismatch('tag value');
        tags.set(tk, tv ?? '');
      }
    }
  }
  return { metric, timestamp, value, tags };
}

export function decodePut(body: Buffer): PutBody {
  if (body.length === 0) return { error: 'peek error: EOF' };
  const first = body[0];
  if (first !== 0x5b && first !== 0x7b) return { error: 'expected JSON array or hash' };
  const multi = first === 0x5b;
  try {
    const v = new Reader(body.toString('utf8')).value();
    if (!multi) return { points: [toPoint(v)] };
    return { points: (v as Json[]).map(toPoint) };
  } catch (err) {
    if (err instanceof JsonSyntaxError || err instanceof TypeMismatch) return { error: multi ? 'json array decode error' : 'json object decode error' };
    throw err;
  }
}
