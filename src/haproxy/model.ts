/**
 * A typed model of the part of haproxy.cfg we generate: sections and their directives.
 *
 * Every directive carries `why`, a one-line reason rendered as a comment above it, so the generated file explains
 * itself to whoever reads it at 3 a.m. Directive arguments are plain words; the renderer does the quoting.
 * Constructors below exist for the directives we use, so build.ts reads like the config it produces.
 * A word is literal text, or an environment variable HAProxy expands at start (for secrets kept out of the file).
 */
import type { BalanceAlgorithm } from './cluster.js';

export type SectionKind = 'global' | 'defaults' | 'frontend' | 'backend' | 'listen' | 'userlist' | 'resolvers';

/** A word HAProxy takes from its environment when it starts: rendered `"${NAME}"`. */
export interface EnvWord {
  readonly env: string;
}

export type Word = string | EnvWord;

export interface Directive {
  /** Keyword and arguments, unquoted: `['timeout', 'connect', '5s']`. */
  readonly words: readonly Word[];
  /** Why this line is here, one line. */
  readonly why: string;
}

export interface Section {
  readonly kind: SectionKind;
  /** Absent for `global` and an anonymous `defaults`. */
  readonly name?: string;
  /** Comment lines printed above the section header: what the section is for. */
  readonly notes: readonly string[];
  readonly directives: readonly Directive[];
}

export interface HaproxyConfig {
  /** Comment lines printed under the generated-file header: the design in brief. */
  readonly notes: readonly string[];
  /** Environment variables the config needs: HAProxy refuses to start (`.alert`) when one is not defined. */
  readonly requiredEnv?: readonly string[];
  readonly sections: readonly Section[];
}

export type TimeoutName = 'connect' | 'client' | 'server' | 'http-request' | 'http-keep-alive' | 'check' | 'queue' | 'tunnel';

export function directive(why: string, ...words: Word[]): Directive {
  return { words, why };
}

export function section(kind: SectionKind, name: string | undefined, notes: readonly string[], directives: readonly Directive[]): Section {
  return name === undefined ? { kind, notes, directives } : { kind, name, notes, directives };
}

export const timeout = (name: TimeoutName, value: string, why: string): Directive => directive(why, 'timeout', name, value);
export const option = (name: string, why: string, ...args: string[]): Directive => directive(why, 'option', name, ...args);
export const balance = (algorithm: BalanceAlgorithm, why: string): Directive => directive(why, 'balance', algorithm);
export const mode = (m: 'http' | 'tcp', why: string): Directive => directive(why, 'mode', m);
export const acl = (name: string, criterion: readonly string[], why: string): Directive => directive(why, 'acl', name, ...criterion);
export const useBackend = (backend: string, condition: readonly string[], why: string): Directive =>
  directive(why, 'use_backend', backend, ...(condition.length > 0 ? ['if', ...condition] : []));
export const httpRequest = (action: readonly string[], condition: readonly string[], why: string): Directive =>
  directive(why, 'http-request', ...action, ...condition);
export const httpCheck = (why: string, ...args: string[]): Directive => directive(why, 'http-check', ...args);

export interface BindOptions {
  /** PEM file holding certificate and key: terminates TLS on this bind. */
  readonly tlsCert?: string | undefined;
}

export function bind(address: string, opts: BindOptions, why: string): Directive {
  const tls = opts.tlsCert === undefined ? [] : ['ssl', 'crt', opts.tlsCert, 'alpn', 'h2,http/1.1'];
  return directive(why, 'bind', address, ...tls);
}

export interface ServerOptions {
  readonly weight?: number | undefined;
  /** Follow another server's health instead of checking this one (`track backend/server`). */
  readonly track?: string | undefined;
  /** Close this server's sessions when it is marked down (a tracked one: when what it tracks is). */
  readonly shutdownSessionsOnDown?: boolean | undefined;
}

export function server(name: string, address: string, opts: ServerOptions, why: string): Directive {
  const words = ['server', name, address];
  if (opts.weight !== undefined) words.push('weight', String(opts.weight));
  if (opts.track !== undefined) words.push('track', opts.track);
  if (opts.shutdownSessionsOnDown === true) words.push('on-marked-down', 'shutdown-sessions');
  return { words, why };
}

export interface CheckOptions {
  readonly inter: string;
  readonly fall: number;
  readonly rise: number;
  /** Send the check here instead of to the server's own address. */
  readonly addr?: string | undefined;
  readonly port?: number | undefined;
  /** Concurrent connections per server; more wait in HAProxy's queue (`timeout queue`). */
  readonly maxconn?: number | undefined;
  /** Close the sessions on a server as soon as it is marked down, so clients retry elsewhere at once. */
  readonly shutdownSessionsOnDown?: boolean | undefined;
}

export function defaultServerCheck(opts: CheckOptions, why: string): Directive {
  const words = ['default-server', 'check'];
  if (opts.addr !== undefined) words.push('addr', opts.addr);
  if (opts.port !== undefined) words.push('port', String(opts.port));
  words.push('inter', opts.inter, 'fall', String(opts.fall), 'rise', String(opts.rise));
  if (opts.maxconn !== undefined) words.push('maxconn', String(opts.maxconn));
  if (opts.shutdownSessionsOnDown === true) words.push('on-marked-down', 'shutdown-sessions');
  return { words, why };
}

/** HAProxy's own error answer for `status`, InfluxDB-shaped: JSON `{"error": ...}`, with extra headers. */
export function httpError(status: number, message: string, headers: readonly (readonly [string, string])[], why: string): Directive {
  const hdrs = headers.flatMap(([name, value]) => ['hdr', name, value]);
  return directive(why, 'http-error', 'status', String(status), 'content-type', 'application/json', 'string', JSON.stringify({ error: message }), ...hdrs);
}
