/**
 * `host:port` addresses as Go's net.Listen / net.Dial take them: "127.0.0.1:9096", "[::1]:9096", ":9096"
 * (empty host = every interface), "localhost:8089".
 */

export interface HostPort {
  /** Empty string: every interface (listen only). IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

const HOST = /^[A-Za-z0-9._-]*$/;

/** Splits `host:port`; undefined when it is not one. Port 0 (pick a free port) is allowed here. */
export function parseHostPort(addr: string): HostPort | undefined {
  let host: string;
  let portText: string;
  if (addr.startsWith('[')) {
    const close = addr.indexOf(']');
    if (close < 0 || addr[close + 1] !== ':') return undefined;
    host = addr.slice(1, close);
    portText = addr.slice(close + 2);
    if (!host.includes(':')) return undefined;
  } else {
    const colon = addr.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = addr.slice(0, colon);
    portText = addr.slice(colon + 1);
    if (!HOST.test(host)) return undefined; // also rejects a bare IPv6 address, which needs brackets
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port <= 65535 ? { host, port } : undefined;
}
