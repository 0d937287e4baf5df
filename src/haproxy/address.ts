/**
 * host:port parsing for the cluster file, and the rules that tell when two addresses collide.
 *
 * HAProxy resolves names once at start-up and binds only IPs (or the wildcard), so a bind host must be an IP or
 * `*`; a server host may also be a DNS name. IPv6 hosts are written in brackets, as HAProxy accepts them.
 */

export interface HostPort {
  /** IPv4, DNS name, or IPv6 without brackets; '*' only for a wildcard bind. */
  readonly host: string;
  readonly port: number;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/;
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const IPV4 = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;

function validPort(text: string): number | undefined {
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function validIpv4(host: string): boolean {
  return IPV4.test(host) && host.split('.').every((octet) => Number(octet) <= 255);
}

function validDnsName(host: string): boolean {
  // All-digit dotted names are IPv4 attempts (e.g. 300.1.1.1), never names.
  if (/^[0-9.]+$/.test(host)) return false;
  return host.length <= 253 && host.split('.').every((label) => DNS_LABEL.test(label));
}

function validIpv6(host: string): boolean {
  return host.includes(':') && /^[0-9A-Fa-f:.]+$/.test(host) && (host.match(/::/g) ?? []).length <= 1;
}

/** An upstream address (relay, database): IPv4, DNS name or [IPv6], then :port. */
export function parseHostPort(text: string): HostPort | undefined {
  const m = HOST_PORT.exec(text);
  if (!m) return undefined;
  const port = validPort(m[3] ?? '');
  if (port === undefined) return undefined;
  const v6 = m[1];
  if (v6 !== undefined) return validIpv6(v6) ? { host: v6, port } : undefined;
  const host = m[2] ?? '';
  return validIpv4(host) || validDnsName(host) ? { host, port } : undefined;
}

/** A listening address: `*:port`, `:port`, IPv4:port or [IPv6]:port. */
export function parseBind(text: string): HostPort | undefined {
  const wild = /^\*?:([0-9]{1,5})$/.exec(text);
  if (wild) {
    const port = validPort(wild[1] ?? '');
    return port === undefined ? undefined : { host: '*', port };
  }
  const hp = parseHostPort(text);
  if (!hp) return undefined;
  return validIpv4(hp.host) || validIpv6(hp.host) ? hp : undefined;
}

/** How HAProxy spells the address on a `bind` or `server` line. */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

function isWildcard(host: string): boolean {
  return host === '*' || host === '0.0.0.0' || host === '::';
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Two HAProxy binds collide when they share a port and one is a wildcard or both name the same host. */
export function bindsCollide(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && (isWildcard(a.host) || isWildcard(b.host) || a.host === b.host);
}

/**
 * A bind takes an upstream's port when that upstream lives on HAProxy's own host (a loopback address) on the same
 * port, and the bind covers loopback (wildcard or loopback). HAProxy would then talk to itself.
 */
export function bindTakesUpstream(bind: HostPort, upstream: HostPort): boolean {
  return (
    bind.port === upstream.port &&
    isLoopback(upstream.host) &&
    (isWildcard(bind.host) || isLoopback(bind.host))
  );
}
