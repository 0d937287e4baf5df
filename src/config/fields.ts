/**
 * A small schema DSL over zod: each config key is a Field carrying its TOML name, zod validator (with default),
 * and the type/default/origin/description text the docs renderer prints. A Section turns a table of Fields into
 * one zod schema that rejects unknown keys (naming the allowed ones) and renames kebab-case keys to camelCase.
 * Defaults live only here, so the docs cannot drift from what the loader applies.
 */
import { z } from 'zod';
import { parseGoDuration } from './duration.js';
import { parseHostPort } from '../net/address.js';
import { parsePrecision, PRECISIONS, type Precision } from '../lineprotocol/precision.js';

/** Where a key comes from: InfluxData's Go influxdb-relay, or added by this relay. */
export type Origin = 'influxdb-relay' | 'relay';

export interface Kind<T> {
  /** Type as shown in the docs. */
  readonly type: string;
  /** Default as shown in the docs (`"10s"`, `64`, `required`). */
  readonly defaultText: string;
  readonly schema: z.ZodType<T, z.ZodTypeDef, unknown>;
}

export interface Field<T> extends Kind<T> {
  readonly key: string;
  readonly origin: Origin;
  readonly doc: string;
}

/** A key of InfluxData's influxdb-relay. */
export function go<T>(key: string, kind: Kind<T>, doc: string): Field<T> {
  return { ...kind, key, origin: 'influxdb-relay', doc };
}

/** A key added by this relay. */
export function ours<T>(key: string, kind: Kind<T>, doc: string): Field<T> {
  return { ...kind, key, origin: 'relay', doc };
}

/** Overrides how a default is shown (for defaults computed from other keys). */
export function shownDefault<T>(kind: Kind<T>, defaultText: string): Kind<T> {
  return { ...kind, defaultText };
}

// ---- kinds -------------------------------------------------------------------------------------------------

export function text(def = ''): Kind<string> {
  return { type: 'string', defaultText: code(def), schema: z.string().default(def) };
}

/** A string whose empty value means "not set" (loaded as undefined). */
export function optionalText(type = 'string'): Kind<string | undefined> {
  const schema = z
    .string()
    .default('')
    .transform((s) => (s === '' ? undefined : s));
  return { type, defaultText: code(''), schema };
}

export function requiredText(): Kind<string> {
  return { type: 'string', defaultText: 'required', schema: z.string().min(1, 'must not be empty') };
}

export function bool(def: boolean): Kind<boolean> {
  return { type: 'boolean', defaultText: code(def), schema: z.boolean().default(def) };
}

export function oneOf<const V extends readonly [string, ...string[]]>(values: V, def: V[number]): Kind<V[number]> {
  const type = values.map((v) => `\`"${v}"\``).join(', ');
  return { type: `one of ${type}`, defaultText: code(def), schema: z.enum(values).default(def) };
}

export interface IntegerOptions {
  readonly min?: number;
  readonly max?: number;
  /** Shown after "integer" in the docs, e.g. "MB". */
  readonly unit?: string;
  /** influxdb-relay treats 0 as "use the default" for some keys; so do we, for the same keys. */
  readonly zeroIsDefault?: boolean;
}

export function integer(def: number, o: IntegerOptions = {}): Kind<number> {
  const min = o.min ?? 0;
  let n = z.number().int().min(min, `must be at least ${min}`);
  if (o.max !== undefined) n = n.max(o.max, `must be at most ${o.max}`);
  const schema = n.default(def).transform((v) => (o.zeroIsDefault === true && v === 0 ? def : v));
  const range = o.max !== undefined ? `, ${min} to ${o.max}` : min > 0 ? `, >= ${min}` : '';
  const type = `integer${o.unit === undefined ? '' : ` (${o.unit})`}${range}`;
  return { type, defaultText: code(def), schema };
}

/** An integer key that may be left unset (loaded as undefined), e.g. a deprecated alias that wins only when set. */
export function optionalInteger(o: Omit<IntegerOptions, 'zeroIsDefault'> = {}): Kind<number | undefined> {
  const min = o.min ?? 0;
  let n = z.number().int().min(min, `must be at least ${min}`);
  if (o.max !== undefined) n = n.max(o.max, `must be at most ${o.max}`);
  const range = o.max !== undefined ? `, ${min} to ${o.max}` : min > 0 ? `, >= ${min}` : '';
  return { type: `integer${o.unit === undefined ? '' : ` (${o.unit})`}${range}`, defaultText: 'unset', schema: n.optional() };
}

export interface DurationOptions {
  /** Whether "0" is allowed (otherwise the duration must be positive). */
  readonly zero?: boolean;
  /** influxdb-relay reads an empty string as "use the default" for its duration keys. */
  readonly emptyIsDefault?: boolean;
}

/** A Go duration string, loaded as milliseconds. */
export function duration(def: string, o: DurationOptions = {}): Kind<number> {
  const schema = z
    .string()
    .default(def)
    .transform((s, ctx) => {
      const ms = parseGoDuration(o.emptyIsDefault === true && s === '' ? def : s);
      if (ms === undefined) return invalid(ctx, `not a Go duration (like "300ms", "1.5s", "1m30s", "2h"): ${q(s)}`);
      if (ms < 0 || (ms === 0 && o.zero !== true)) {
        return invalid(ctx, `must be ${o.zero === true ? 'zero or positive' : 'positive'}: ${q(s)}`);
      }
      return ms;
    });
  return { type: o.zero === true ? 'duration' : 'duration, > 0', defaultText: code(def), schema };
}

export function precision(): Kind<Precision> {
  const schema = z
    .string()
    .default('n')
    .transform((s, ctx) => parsePrecision(s) ?? invalid(ctx, `must be one of ${PRECISIONS.join(', ')}: ${q(s)}`));
  return { type: `one of ${PRECISIONS.map((p) => `\`"${p}"\``).join(', ')}`, defaultText: code('n'), schema };
}

export function isHttpUrl(s: string): boolean {
  if (!/^https?:\/\//i.test(s)) return false;
  try {
    return new URL(s).hostname !== '';
  } catch {
    return false;
  }
}

export function httpUrl(): Kind<string> {
  const schema = z.string().superRefine((s, ctx) => {
    if (!isHttpUrl(s)) ctx.addIssue({ code: 'custom', message: `not an http:// or https:// URL: ${q(s)}` });
  });
  return { type: 'URL', defaultText: 'required', schema };
}

/** `host:port`; `listen` allows an empty host (every interface) and port 0 (any free port). */
export function address(use: 'listen' | 'dial'): Kind<string> {
  const schema = z.string().superRefine((s, ctx) => {
    const hp = parseHostPort(s);
    if (hp === undefined) ctx.addIssue({ code: 'custom', message: `not a host:port address: ${q(s)}` });
    else if (use === 'dial' && (hp.host === '' || hp.port === 0)) {
      ctx.addIssue({ code: 'custom', message: `needs a host and a non-zero port: ${q(s)}` });
    }
  });
  return { type: 'host:port', defaultText: 'required', schema };
}

/** A TOML array of tables (`output = [ {...} ]` or `[[x.output]]`) with at least one entry. */
export function tables<T>(entry: z.ZodType<T, z.ZodTypeDef, unknown>, what: string): Kind<T[]> {
  const schema = z.array(entry).min(1, `at least one ${what} is required`);
  return { type: 'array of tables', defaultText: 'required', schema };
}

// ---- sections ----------------------------------------------------------------------------------------------

type Fields = Record<string, Field<unknown>>;
export type RawOf<F extends Fields> = { [P in keyof F]: F[P] extends Field<infer T> ? T : never };

export interface Section<F extends Fields, Out> {
  readonly fields: F;
  readonly schema: z.ZodType<Out, z.ZodTypeDef, unknown>;
}

/**
 * One TOML table: validates every key, reports unknown ones, then `finish` builds the loaded object and `check`
 * (which runs only when every key is valid) adds cross-key issues with paths relative to this table.
 */
export function section<F extends Fields, Out>(
  fields: F,
  finish: (raw: RawOf<F>) => Out,
  check?: (out: Out, ctx: z.RefinementCtx) => void,
): Section<F, Out> {
  const entries = Object.entries(fields);
  const allowed = entries.map(([, f]) => f.key);
  const shape: Record<string, z.ZodTypeAny> = {};
  for (const [, f] of entries) shape[f.key] = f.schema;
  const table = z.preprocess((v, ctx) => {
    reportUnknownKeys(v, allowed, ctx);
    return v;
  }, z.object(shape));
  const built = table.transform((obj) => {
    const raw: Record<string, unknown> = {};
    for (const [prop, f] of entries) raw[prop] = obj[f.key];
    return finish(raw as RawOf<F>);
  });
  return { fields, schema: check === undefined ? built : built.superRefine(check) };
}

function reportUnknownKeys(v: unknown, allowed: readonly string[], ctx: z.RefinementCtx): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
  for (const key of Object.keys(v)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((a) => editDistance(a, key) <= 2);
    const hint = near === undefined ? '' : `; did you mean "${near}"?`;
    ctx.addIssue({ code: 'custom', path: [key], message: `unknown key${hint} (allowed here: ${allowed.join(', ')})` });
  }
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(sub, (prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

// ---- messages ----------------------------------------------------------------------------------------------

function invalid(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

/** A default as TOML, in Markdown code: `"10s"`, `64`, `false`. */
function code(v: string | number | boolean): string {
  return `\`${JSON.stringify(v)}\``;
}

function q(s: string): string {
  return JSON.stringify(s);
}

const ARTICLE: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'an integer', // every number in relay.toml is one
  integer: 'an integer',
  boolean: 'a boolean',
  array: 'an array of tables',
  object: 'a table',
};

function describeValue(v: unknown): string {
  if (typeof v === 'string') return q(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  return typeof v === 'object' && v !== null ? 'a table' : typeof v;
}

/** Messages worded for relay.toml (tables, not objects), each naming the offending value. */
export const errorMap: z.ZodErrorMap = (issue, ctx) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.received === 'undefined') return { message: 'required' };
      return { message: `expected ${ARTICLE[issue.expected] ?? issue.expected}, got ${describeValue(ctx.data)}` };
    case 'invalid_enum_value':
      return { message: `must be one of ${issue.options.join(', ')}: ${describeValue(issue.received)}` };
    default:
      return { message: ctx.defaultError };
  }
};
