/**
 * Rules that span several keys of the cluster file. Each one catches a cluster that HAProxy would accept or
 * reject with a message about its own file, never ours: duplicate names and addresses, ports taken twice,
 * a stats page without a password. Issues name the cluster key path, like every config error.
 */
import { bindTakesUpstream, bindsCollide, formatHostPort, parseBind } from './address.js';
import type { HostPort } from './address.js';
import { formatPath } from '../config/errors.js';

/** The fields the rules read, as the schema has shaped them (before defaults that depend on other keys). */
export interface RulesInput {
  readonly relays: readonly { readonly name: string; readonly address: HostPort; readonly tcpAddress?: HostPort | undefined }[];
  readonly databases: readonly { readonly name: string; readonly address: HostPort; readonly weight?: number | undefined }[];
  readonly http: { readonly bind: HostPort };
  readonly tcp: { readonly bind?: HostPort | undefined };
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

const DEFAULT_TCP_BIND = '*:8094';

/** The raw-TCP bind in force: the explicit one, else the default when relays have a TCP listener. */
export function effectiveTcpBind(c: RulesInput): HostPort | undefined {
  return c.tcp.bind ?? (c.relays.some((r) => r.tcpAddress) ? parseBind(DEFAULT_TCP_BIND) : undefined);
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
    if (r.tcpAddress) out.push({ path: ['relays', i, 'tcp-address'], addr: r.tcpAddress });
  });
  c.databases.forEach((d, i) => out.push({ path: ['databases', i, 'address'], addr: d.address }));
  return out;
}

function binds(c: RulesInput): Located[] {
  const out: Located[] = [{ path: ['http', 'bind'], addr: c.http.bind }];
  const tcp = effectiveTcpBind(c);
  if (tcp) out.push({ path: ['tcp', 'bind'], addr: tcp });
  if (c.stats.enabled) out.push({ path: ['stats', 'bind'], addr: c.stats.bind });
  if (c.freshness.enabled) out.push({ path: ['freshness', 'port'], addr: { host: '127.0.0.1', port: c.freshness.port } });
  return out;
}

function tcpRules(c: RulesInput, report: Report): void {
  const withTcp = c.relays.findIndex((r) => r.tcpAddress);
  if (withTcp < 0) {
    if (c.tcp.bind) report(['tcp', 'bind'], 'set, but no relay has a tcp-address to send the stream to');
    return;
  }
  c.relays.forEach((r, i) => {
    if (!r.tcpAddress) report(['relays', i, 'tcp-address'], `required because relays[${withTcp}] has one (the raw-TCP pool must hold every relay)`);
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
  tcpRules(c, report);
  portRules(c, report);
  statsRules(c, report);
  return issues;
}
