/** Go-style listen addresses: "host:port", ":port" (every interface), "[::1]:port". */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

export function parseListenAddress(addr: string): ListenAddress {
  const i = addr.lastIndexOf(':');
  if (i < 0) throw new Error(`${addr}: expected host:port`);
  let host = addr.slice(0, i);
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${addr}: bad port`);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host: host === '' ? undefined : host, port };
}
