/**
 * HAProxy's view of the cluster, read from its stats CSV: over the runtime API socket (`show stat`, the cluster
 * file's stats.socket) when there is one, else from the stats page (`<uri>;csv`, with the stats user and password).
 * A row per proxy and server, keyed by column name (pxname, svname, status, check_status, scur, ...).
 */
import net from 'node:net';
import { request } from 'undici';
import type { Cluster } from '../haproxy/cluster.js';
import { formatHostPort, type HostPort } from '../net/address.js';

export type StatsRow = Readonly<Record<string, string>>;

export function parseStatsCsv(text: string): StatsRow[] {
  const [header, ...lines] = text.trim().split('\n');
  if (header === undefined || !header.startsWith('#')) throw new Error(`not HAProxy's stats CSV: ${JSON.stringify(text.slice(0, 80))}`);
  const columns = header.replace(/^#\s*/, '').split(',');
  return lines
    .filter((l) => l !== '')
    .map((line) => {
      const cells = line.split(',');
      return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
    });
}

/** One command on HAProxy's runtime API; resolves with everything it answered. */
export function runtimeCommand(socketPath: string, command: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(socketPath, () => s.end(`${command}\n`));
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`no answer from ${socketPath} within ${timeoutMs} ms`)));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** http://host:port for an address; a wildcard one (a bind) is reached on loopback. */
export function httpBase(a: HostPort): string {
  const host = a.host === '' || a.host === '*' || a.host === '0.0.0.0' ? '127.0.0.1' : a.host === '::' ? '::1' : a.host;
  return `http://${formatHostPort({ host, port: a.port })}`;
}

/** The stats page's URL on this host. */
export function statsUrl(cluster: Cluster): string {
  return `${httpBase(cluster.stats.bind)}${cluster.stats.uri}`;
}

export interface StatsSource {
  /** Where the rows came from, for people: the socket path or the stats URL. */
  readonly from: string;
  read(): Promise<StatsRow[]>;
}

export function statsSource(cluster: Cluster, env: NodeJS.ProcessEnv = process.env, timeoutMs = 2000): StatsSource | undefined {
  const socket = cluster.stats.socket;
  if (socket !== undefined) return { from: socket, read: async () => parseStatsCsv(await runtimeCommand(socket, 'show stat', timeoutMs)) };
  if (!cluster.stats.enabled) return undefined;
  const url = statsUrl(cluster);
  const password = cluster.stats.password ?? (cluster.stats['password-env'] ? env[cluster.stats['password-env']] : undefined) ?? '';
  const auth = `Basic ${Buffer.from(`${cluster.stats.user}:${password}`).toString('base64')}`;
  return {
    from: url,
    read: async () => {
      const res = await request(`${url};csv`, { headers: { authorization: auth }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${url};csv answered ${res.statusCode}`);
      return parseStatsCsv(text);
    },
  };
}
