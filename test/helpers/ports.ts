// Free loopback TCP ports. There is an unavoidable race between closing the probe
// socket and the real server binding it; callers that spawn servers retry on EADDRINUSE.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';

function listen0(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(srv));
  });
}

function close(srv: net.Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

export async function freePort(): Promise<number> {
  const [p] = await freePorts(1);
  return p as number;
}

/** n distinct free ports: all probes stay open until every port is known, so none repeats. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listen0());
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** True when nothing can bind 127.0.0.1:port right now. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(true));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(false)));
  });
}

/**
 * Whether process `pid` holds the LISTEN socket on 127.0.0.1:port (Linux /proc), so a
 * readiness probe cannot be fooled by some other server that took the port first.
 * undefined when /proc cannot tell (not Linux).
 */
export function pidListensOn(pid: number, port: number): boolean | undefined {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  const inodes = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === want && f[3] === '0A' && f[9] !== undefined) inodes.add(`socket:[${f[9]}]`);
  }
  if (inodes.size === 0) return false;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return true;
      } catch {
        // fd closed meanwhile
      }
    }
  } catch {
    return false; // process gone
  }
  return false;
}
