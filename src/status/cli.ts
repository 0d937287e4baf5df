/**
 * `influx-relay status -cluster FILE [--json] [--serve [HOST]:PORT]`: the cluster view. Without --serve, one
 * snapshot printed as a table (or JSON); with it, an HTTP server (loopback unless a host is given) with the cluster
 * page at / and its data at /cluster.json, until SIGTERM or SIGINT.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../haproxy/cluster.js';
import { ClusterError, loadCluster } from '../haproxy/load.js';
import { parseHostPort } from '../net/address.js';
import type { CommandIO } from '../cli-args.js';
import { gatherCluster, lacksRates, type ClusterStatus } from './cluster.js';
import { CLUSTER_PAGE } from './page.js';
import { PAGE_HEADERS } from '../admin/page-style.js';
import { renderClusterTable } from './table.js';

export const STATUS_USAGE = `usage: influx-relay status -cluster FILE [--json] [--serve [HOST]:PORT]

Shows every relay, every database and HAProxy's view of each (from the cluster file's stats socket, else its
stats page): who takes writes, which databases are fresh for reads, backlogs, missed windows, rates.

  -cluster FILE        cluster description (TOML), as for \`influx-relay haproxy\`
  --json               print the snapshot as JSON instead of a table
  --serve [HOST]:PORT  serve the same view as a live page (HOST defaults to 127.0.0.1)
`;

interface Flags {
  cluster?: string;
  serve?: string;
  json?: boolean;
  help?: boolean;
}

function parseFlags(argv: readonly string[]): Flags | string {
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z]+)(?:=(.*))?$/.exec(argv[i] ?? '');
    if (!m) return `unexpected argument ${JSON.stringify(argv[i])}`;
    const name = m[1] ?? '';
    if (name === 'h' || name === 'help' || name === 'json') {
      flags[name === 'json' ? 'json' : 'help'] = true;
      continue;
    }
    if (name !== 'cluster' && name !== 'serve') return `unknown flag -${name}`;
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') return `-${name} needs a value`;
    flags[name] = value;
  }
  return flags;
}

export async function statusCommand(argv: string[], io: CommandIO = process): Promise<number> {
  const flags = parseFlags(argv);
  if (typeof flags === 'string' || (!flags.help && flags.cluster === undefined)) {
    io.stderr.write(`influx-relay status: ${typeof flags === 'string' ? flags : '-cluster FILE is required'}\n${STATUS_USAGE}`);
    return 2;
  }
  if (flags.help) {
    io.stdout.write(STATUS_USAGE);
    return 0;
  }
  let cluster: Cluster;
  try {
    cluster = await loadCluster(flags.cluster!);
  } catch (err) {
    io.stderr.write(`${err instanceof ClusterError ? err.message : `influx-relay status: ${String(err)}`}\n`);
    return 2;
  }
  if (flags.serve !== undefined) {
    const at = parseHostPort(flags.serve);
    if (at === undefined) {
      io.stderr.write(`influx-relay status: --serve expects [HOST]:PORT, not ${JSON.stringify(flags.serve)}\n`);
      return 2;
    }
    return serve(cluster, at.host === '' ? '127.0.0.1' : at.host, at.port, io);
  }
  let s = await gatherCluster(cluster);
  // A relay's first answer has no rates (they need two samples): a second look a second later has them.
  if (lacksRates(s)) {
    await sleep(1100);
    s = await gatherCluster(cluster);
  }
  io.stdout.write(flags.json ? `${JSON.stringify(s, null, 2)}\n` : renderClusterTable(s));
  const healthy = s.haproxy.ok && s.relays.every((r) => r.status?.acceptingWrites) && s.databases.every((d) => d.pings);
  return healthy ? 0 : 1;
}

/** The live page. Concurrent viewers share one gathering in flight, so N tabs do not probe the cluster N times. */
async function serve(cluster: Cluster, host: string, port: number, io: CommandIO): Promise<number> {
  let inFlight: Promise<ClusterStatus> | undefined;
  const snapshot = (): Promise<ClusterStatus> => (inFlight ??= gatherCluster(cluster).finally(() => (inFlight = undefined)));
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify({ error: 'method not allowed' }));
    }
    if (path === '/') {
      res.writeHead(200, PAGE_HEADERS);
      return void res.end(req.method === 'HEAD' ? undefined : CLUSTER_PAGE);
    }
    if (path === '/cluster.json') {
      snapshot().then(
        (s) => {
          res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          res.end(JSON.stringify(s));
        },
        (err: unknown) => {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ error: String(err) }));
        },
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    io.stderr.write(`influx-relay status: cannot listen on ${host}:${port}: ${String(err)}\n`);
    return 1;
  }
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  io.stderr.write(`influx-relay status: cluster page at http://${shown}:${a.port}/\n`);
  return new Promise<number>((resolve) => {
    const stop = () => {
      server.close(() => resolve(0));
      server.closeAllConnections();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
