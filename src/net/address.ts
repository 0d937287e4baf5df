/**
 * `host:port` addresses, the one parser for every address the relay and its HAProxy generator read, and the rule of
 * when two listening sockets collide. Syntax as Go's net.Listen / net.Dial take it: "127.0.0.1:9096", "[::1]:9096",
 * ":9096" (empty host = every interface), "localhost:8089". A host is IPv4, a DNS name (underscores allowed, as
 * resolvers and Docker service names allow them) or IPv6 in brackets.
 */

export interface HostPort {
  /** Empty string: every interface (listen only). IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const IPV4 = /^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/;

function validIpv4(host: string): boolean {
  return IPV4.test(host) && host.split('.').every((octet) => Number(octet) <= 255);
}

function validIpv6(host: string): boolean {
  return host.includes(':') && /^[0-9A-Fa-f:.]+$/.test(host) && (host.match(/::/g) ?? []).length <= 1;
}

function validDnsName(host: string): boolean {
  // All-digit dotted names are IPv4 attempts (e.g. 300.1.1.1), never names.
  if (/^[0-9.]+$/.test(host)) return false;
  return host.length <= 253 && host.split('.').every((label) => DNS_LABEL.test(label));
}

export function isIp(host: string): boolean {
  return validIpv4(host) || validIpv6(host);
}

/** Splits `host:port`; undefined when it is not one. Port 0 (pick a free port) and an empty host are allowed here. */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const v6 = m[1];
  if (v6 !== undefined) return validIpv6(v6) ? { host: v6, port } : undefined;
  const host = m[2] ?? '';
  return host === '' || validIpv4(host) || validDnsName(host) ? { host, port } : undefined;
}

/** An address to connect to: a host and a port in 1..65535. */
export function parseDialAddress(text: string): HostPort | undefined {
  const hp = parseHostPort(text);
  return hp !== undefined && hp.host !== '' && hp.port > 0 ? hp : undefined;
}

/** For socket calls (listen, bind, send): `undefined` host means every interface. Throws on a malformed address. */
export function parseListenAddress(text: string): { readonly host: string | undefined; readonly port: number } {
  const hp = parseHostPort(text);
  if (hp === undefined) throw new Error(`${text}: expected host:port`);
  return { host: hp.host === '' ? undefined : hp.host, port: hp.port };
}

/** `[::1]:9096` for IPv6, `host:port` otherwise. */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** Every interface: an empty host, HAProxy's `*`, or an unspecified IPv4/IPv6 address. */
export function isWildcard(host: string): boolean {
  return host === '' || host === '*' || host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

export function isLoopback(host: string): boolean {
  return host.toLowerCase() === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The addresses a host may bind: `localhost` resolves to 127.0.0.1 or ::1 (either, by the system's resolver). */
function boundAddresses(host: string): string[] {
  const h = host.toLowerCase();
  if (h === 'localhost') return ['127.0.0.1', '::1'];
  return [validIpv6(h) ? canonicalIpv6(h) : h];
}

function canonicalIpv6(host: string): string {
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return host;
  }
}

/**
 * Two listening sockets of one protocol collide (EADDRINUSE) when they share a port and one covers every interface,
 * or both may bind the same address. Port 0 (any free port) never collides.
 */
export function bindsCollide(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port || a.port === 0) return false;
  if (isWildcard(a.host) || isWildcard(b.host)) return true;
  const bs = boundAddresses(b.host);
  return boundAddresses(a.host).some((x) => bs.includes(x));
}
