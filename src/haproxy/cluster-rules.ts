/**
 * Rules that span several keys of the cluster file. Each one catches a cluster that HAProxy would accept or
 * reject with a message about its own file, never ours: duplicate names and addresses, ports taken twice,
 * a stats page without a password. Issues name the cluster key path, like every config error.
 */
import { bindTakesUpstream, bindsCollide, formatHostPort, parseBind } from './address.js';
import type { HostPort } from './address.js';
import { formatPath } from '../config/errors.js';

/** The fields the rules read, as the schema has shaped them (before defaults that depend on other keys). */
interface RelayInput {
  readonly name: string;
  readonly address: HostPort;
  readonly tcpAddress?: HostPort | undefined;
  readonly opentsdbAddress?: HostPort | undefined;
  readonly graphiteAddress?: HostPort | undefined;
}

export interface RulesInput {
  readonly relays: readonly RelayInput[];
  readonly databases: readonly { readonly name: string; readonly address: HostPort; readonly weight?: number | undefined }[];
  readonly http: { readonly bind: HostPort };
  readonly tcp: { readonly bind?: HostPort | undefined };
  readonly opentsdb: { readonly bind?: HostPort | undefined };
  readonly graphite: { readonly bind?: HostPort | undefined };
  readonly stats: { readonly enabled: boolean; readonly bind: HostPort; readonly uri: string; readonly password?: string | undefined; readonly 'password-env'?: string | undefined; readonly prometheus: boolean };
  readonly freshness: { readonly enabled: boolean; readonly port: number };
}

type Path = (string | number)[];

export interface RuleIssue {
  readonly path: Path;
  readonly message: string;
}

type Report = (path: Path, message: string) => void;
interface Located {
  readonly path: Path;
  readonly addr: HostPort;
}

type StreamKind = 'tcp' | 'opentsdb' | 'graphite';

/** Per TCP frontend: the relay key it balances over (model and file spelling) and its default bind (InfluxDB's port). */
interface Stream {
  readonly relayKey: 'tcpAddress' | 'opentsdbAddress' | 'graphiteAddress';
  readonly fileKey: string;
  readonly defaultBind: string;
  readonly label: string;
}
export const STREAMS: Record<StreamKind, Stream> = {
  tcp: { relayKey: 'tcpAddress', fileKey: 'tcp-address', defaultBind: '*:8094', label: 'raw-TCP' },
  opentsdb: { relayKey: 'opentsdbAddress', fileKey: 'opentsdb-address', defaultBind: '*:4242', label: 'OpenTSDB' },
  graphite: { relayKey: 'graphiteAddress', fileKey: 'graphite-address', defaultBind: '*:2003', label: 'Graphite' },
};
const KINDS = Object.keys(STREAMS) as StreamKind[];

/** A TCP frontend's bind in force: the explicit one, else its default when the relays have that listener. */
export function effectiveStreamBind(c: RulesInput, kind: StreamKind): HostPort | undefined {
  const { relayKey, defaultBind } = STREAMS[kind];
  return c[kind].bind ?? (c.relays.some((r) => r[relayKey]) ? parseBind(defaultBind) : undefined);
}

function sameAddress(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && a.host.toLowerCase() === b.host.toLowerCase();
}

function uniqueNames(list: readonly { readonly name: string }[], key: string, report: Report): void {
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    const first = seen.get(item.name);
    if (first === undefined) seen.set(item.name, i);
    else report([key, i, 'name'], `duplicate name "${item.name}", already ${key}[${first}].name`);
  });
}

function upstreams(c: RulesInput): Located[] {
  const out: Located[] = [];
  c.relays.forEach((r, i) => {
    out.push({ path: ['relays', i, 'address'], addr: r.address });
    for (const kind of KINDS) {
      const addr = r[STREAMS[kind].relayKey];
      if (addr) out.push({ path: ['relays', i, STREAMS[kind].fileKey], addr });
    }
  });
  c.databases.forEach((d, i) => out.push({ path: ['databases', i, 'address'], addr: d.address }));
  return out;
}

function binds(c: RulesInput): Located[] {
  const out: Located[] = [{ path: ['http', 'bind'], addr: c.http.bind }];
  for (const kind of KINDS) {
    const at = effectiveStreamBind(c, kind);
    if (at) out.push({ path: [kind, 'bind'], addr: at });
  }
  if (c.stats.enabled) out.push({ path: ['stats', 'bind'], addr: c.stats.bind });
  if (c.freshness.enabled) out.push({ path: ['freshness', 'port'], addr: { host: '127.0.0.1', port: c.freshness.port } });
  return out;
}

function streamRules(c: RulesInput, kind: StreamKind, report: Report): void {
  const { relayKey, fileKey, label } = STREAMS[kind];
  const withOne = c.relays.findIndex((r) => r[relayKey]);
  if (withOne < 0) {
    if (c[kind].bind) report([kind, 'bind'], `set, but no relay has a ${fileKey} to send the stream to`);
    return;
  }
  c.relays.forEach((r, i) => {
    if (!r[relayKey]) report(['relays', i, fileKey], `required because relays[${withOne}] has one (the ${label} pool must hold every relay)`);
  });
}

function portRules(c: RulesInput, report: Report): void {
  const ups = upstreams(c);
  ups.forEach((u, i) => {
    const first = ups.findIndex((o) => sameAddress(o.addr, u.addr));
    if (first < i) report(u.path, `${formatHostPort(u.addr)} is already ${formatPath(ups[first]?.path ?? [])}`);
  });
  const bs = binds(c);
  bs.forEach((b, i) => {
    const first = bs.findIndex((o) => bindsCollide(o.addr, b.addr));
    if (first < i) {
      report(b.path, `port ${b.addr.port} is already taken by ${formatPath(bs[first]?.path ?? [])}`);
      return;
    }
    const taken = ups.find((u) => bindTakesUpstream(b.addr, u.addr));
    if (taken) report(b.path, `port ${b.addr.port} is ${formatPath(taken.path)} (${formatHostPort(taken.addr)}) on HAProxy's own host`);
  });
}

function statsRules(c: RulesInput, report: Report): void {
  if (!c.stats.enabled) return;
  const env = c.stats['password-env'];
  if (c.stats.password === undefined && env === undefined) report(['stats', 'password'], 'required when stats are enabled');
  if (c.stats.password !== undefined && env !== undefined) report(['stats', 'password-env'], 'set together with stats.password: keep one');
  if (c.stats.prometheus && c.stats.uri === '/metrics') report(['stats', 'uri'], "/metrics is the Prometheus exporter's path");
}

/** Every cross-key rule; each issue is at the key a person has to change. Runs only on a cluster whose fields are valid. */
export function clusterRules(c: RulesInput): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const report: Report = (path, message) => issues.push({ path, message });
  uniqueNames(c.relays, 'relays', report);
  uniqueNames(c.databases, 'databases', report);
  if (c.databases.every((d) => d.weight === 0)) report(['databases'], 'every weight is 0, so no database would serve reads');
  for (const kind of KINDS) streamRules(c, kind, report);
  portRules(c, report);
  statsRules(c, report);
  return issues;
}
