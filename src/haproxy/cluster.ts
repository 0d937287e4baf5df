/**
 * The cluster file: which relays and InfluxDB servers sit behind HAProxy, and how HAProxy fronts them.
 *
 * One zod schema is the source of truth for keys, types and defaults (docs/cluster.md lists every key; a test
 * fails when the two drift). Keys are kebab-case like relay.toml. Unknown keys are errors. Field errors come from
 * the schema; rules that span fields (duplicates, port clashes) live in cluster-rules.ts.
 */
import { z } from 'zod';
import { parseBind, parseDialAddress } from './address.js';
import type { HostPort } from './address.js';
import { effectiveStreamBind } from './cluster-rules.js';
import { unquotable } from './render.js';

const BALANCE_ALGORITHMS = ['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'random'] as const;
export type BalanceAlgorithm = (typeof BALANCE_ALGORITHMS)[number];

/** Names become HAProxy server/backend names and a URL path segment (/health/backends/<name>). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** HAProxy time with an explicit unit: a bare number would silently mean milliseconds. */
const DURATION = /^[1-9][0-9]*(us|ms|s|m|h|d)$/;

const name = z.string().regex(NAME, 'expected a name of letters, digits, _ . - (at most 63, starting with a letter or digit)');
const duration = z.string().regex(DURATION, 'expected a duration with a unit, like 500ms, 2s, 1m');
/** Written single-quoted in haproxy.cfg, where HAProxy interprets nothing: only ' and control characters cannot go. */
const quotable = (what: string) => z.string().min(1, `expected a non-empty ${what}`).refine((s) => !unquotable(s), `${what} must not contain ' or control characters`);

const address = z.string().transform((text, ctx): HostPort => {
  const hp = parseDialAddress(text);
  if (hp) return hp;
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected host:port' });
  return z.NEVER;
});

const bind = z.string().transform((text, ctx): HostPort => {
  const hp = parseBind(text);
  if (hp) return hp;
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected [ip]:port, like *:8086 or 127.0.0.1:8404' });
  return z.NEVER;
});

const port = z.number().int('expected an integer').min(1, 'expected a port in 1..65535').max(65535, 'expected a port in 1..65535');
const positive = (max: number) => z.number().int('expected an integer').min(1, `expected 1..${max}`).max(max, `expected 1..${max}`);

const relay = z
  .object({
    name,
    address,
    'tcp-address': address.optional(),
    'opentsdb-address': address.optional(),
    'graphite-address': address.optional(),
  })
  .strict()
  .transform((r) => ({
    name: r.name,
    address: r.address,
    tcpAddress: r['tcp-address'],
    opentsdbAddress: r['opentsdb-address'],
    graphiteAddress: r['graphite-address'],
  }));

const database = z
  .object({
    name,
    address,
    weight: z.number().int('expected an integer').min(0, 'expected 0..256').max(256, 'expected 0..256').optional(),
  })
  .strict();

const http = z
  .object({
    bind: bind.default('*:8086'),
    'tls-cert': quotable('path').optional(),
    'ping-version': z.string().regex(/^[0-9A-Za-z.+-]{1,32}$/, 'expected a version like 1.8.10').default('1.8.10'),
    'route-statements': z.boolean().default(true),
  })
  .strict()
  .default({})
  .transform((h) => ({
    bind: h.bind,
    tlsCert: h['tls-cert'],
    pingVersion: h['ping-version'],
    routeStatements: h['route-statements'],
  }));

/** A TCP frontend balancing connections over one listener of every relay: [tcp], [opentsdb], [graphite]. */
const stream = () =>
  z
    .object({
      bind: bind.optional(),
      'idle-timeout': duration.default('10m'),
    })
    .strict()
    .default({})
    .transform((t) => ({ bind: t.bind, idleTimeout: t['idle-timeout'] }));

const stats = z
  .object({
    enabled: z.boolean().default(true),
    bind: bind.default('127.0.0.1:8404'),
    uri: z.string().regex(/^\/[A-Za-z0-9_./-]*$/, 'expected a path like /stats').default('/stats'),
    user: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a user name of letters, digits, _ . -').default('admin'),
    password: quotable('password').optional(),
    socket: quotable('path').optional(),
    'password-env': z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'expected an environment variable name like HAPROXY_STATS_PASSWORD').optional(),
    prometheus: z.boolean().default(true),
  })
  .strict()
  .default({});

const freshness = z
  .object({
    enabled: z.boolean().default(true),
    port: port.default(8405),
  })
  .strict()
  .default({});

const balance = z
  .object({
    writes: z.enum(BALANCE_ALGORITHMS).default('roundrobin'),
    reads: z.enum(BALANCE_ALGORITHMS).default('leastconn'),
  })
  .strict()
  .default({});

const health = z
  .object({
    inter: duration.default('2s'),
    fall: positive(100).default(3),
    rise: positive(100).default(2),
  })
  .strict()
  .default({});

const timeouts = z
  .object({
    connect: duration.default('5s'),
    client: duration.default('60s'),
    server: duration.default('60s'),
    'http-request': duration.default('10s'),
    'http-keep-alive': duration.default('10s'),
    check: duration.default('1s'),
    'write-server': duration.default('5s'),
  })
  .strict()
  .default({})
  .transform((t) => ({
    connect: t.connect,
    client: t.client,
    server: t.server,
    httpRequest: t['http-request'],
    httpKeepAlive: t['http-keep-alive'],
    check: t.check,
    writeServer: t['write-server'],
  }));

const dns = z
  .object({
    nameservers: z.array(address).default([]),
  })
  .strict()
  .default({});

export const clusterSchema = z
  .object({
    relays: z.array(relay).min(1, 'expected at least one relay ([[relays]])'),
    databases: z.array(database).min(1, 'expected at least one database ([[databases]])'),
    http,
    tcp: stream(),
    opentsdb: stream(),
    graphite: stream(),
    stats,
    freshness,
    balance,
    health,
    timeouts,
    dns,
    maxconn: positive(1_000_000).default(4096),
    'server-maxconn': positive(1_000_000).default(512),
  })
  .strict()
  // Each TCP frontend is on by default exactly when the relays have that listener to balance over.
  .transform((c) => ({
    ...c,
    tcp: { ...c.tcp, bind: effectiveStreamBind(c, 'tcp') },
    opentsdb: { ...c.opentsdb, bind: effectiveStreamBind(c, 'opentsdb') },
    graphite: { ...c.graphite, bind: effectiveStreamBind(c, 'graphite') },
  }));

export type Cluster = z.output<typeof clusterSchema>;
export type Relay = Cluster['relays'][number];
export type Database = Cluster['databases'][number];
export type StreamKind = 'tcp' | 'opentsdb' | 'graphite';
