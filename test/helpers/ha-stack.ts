/**
 * The `make up` topology on free loopback ports in a temp dir, for tests:
 *
 *   HAProxy (writes + reads, raw TCP, stats, freshness)
 *     ├─ writes ─▶ relay-1, relay-2   each an [[http]] and a [[tcp]] listener mirroring to both databases, and
 *     │                               [[opentsdb]] and [[graphite]] listeners (Netdata's) into database `netdata`
 *     └─ reads ──▶ influxdb-a, influxdb-b  (real influxd; only those no relay reports catching up)
 *
 * Like `make up`, each relay keeps a durable spool (spool-dir in its own directory), so a relay killed with -9
 * and restarted keeps the backlog it acknowledged; `spool: false` runs memory queues instead.
 * HAProxy's config comes from the relay's own generator (a cluster file written here, loaded by loadCluster) with
 * short health timings so failover tests are quick. Every process is a child tracked by children.ts, so it dies
 * with the test process; stop and start go by PID. With `links`, each database is reached by the relays through a
 * TCP hop the test can cut: the relays lose that database while HAProxy still reaches it (a partition), which holds
 * a database in "catching up" for as long as the test needs.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'smol-toml';
import { buildConfig } from '../../src/haproxy/build.js';
import { loadCluster } from '../../src/haproxy/load.js';
import { renderConfig } from '../../src/haproxy/render.js';
import { OutputCapture, terminate, track, trackDir, untrackDir } from './children.js';
import { get, waitForStatus } from './http.js';
import { startInfluxd, type Influxd } from './influxd.js';
import { freePorts, pidListensOn } from './ports.js';
import { relayToml, startRelay, type Relay } from './relay.js';
import { tomlValue } from './relay-toml.js';
import type { RelayOutput, TomlValue } from './relay-toml.js';

export const HAPROXY_BIN = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';
const STATS_AUTH = { user: 'admin', pass: 'change-me' } as const;
const BUSY = /EADDRINUSE|address already in use|cannot bind socket/i;

export interface HaStackOptions {
  /** Database created on both influxd directly (before the stack is up); the relays' TCP listeners write to it. */
  database?: string;
  /** The cluster file's [health]; default 500ms, fall 2, rise 1. */
  health?: { inter: string; fall: number; rise: number };
  /** Extra keys on every relay output, e.g. { 'max-delay-interval': '1s' }. */
  output?: Record<string, TomlValue>;
  /** Put a cuttable TCP hop between the relays and each database (see StackDatabase.link). */
  links?: boolean;
  /** Each relay spools to <its dir>/spool, as scripts/up.sh configures it; default true. */
  spool?: boolean;
}

/** A TCP hop from the relays to one database. */
export interface Link {
  readonly port: number;
  /** Drops every connection through it and refuses new ones (they are reset on accept). */
  cut(): void;
  heal(): void;
}

export interface StackDatabase {
  /** influxdb-a or influxdb-b: the relays' output name and the cluster file's database name. */
  readonly name: string;
  readonly influxd: Influxd;
  readonly link: Link | undefined;
}

export interface StackRelay {
  /** relay-1 or relay-2, as in the cluster file. */
  readonly name: string;
  /** http://127.0.0.1:PORT of its [[http]] listener. */
  readonly url: string;
  readonly tcpPort: number;
  readonly opentsdbPort: number;
  readonly graphitePort: number;
  /** The running process (a new one after start()). */
  readonly process: Relay;
  /** SIGTERM by PID: it answers /health 503, drains its queues and exits; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL by PID, as a crash: nothing is drained. */
  kill9(): Promise<void>;
  /** Starts it again with the same config, ports and spool (SIGKILLs it first if it still runs). */
  start(): Promise<void>;
  /** Status of GET /health/backends/<database> (0 when it does not answer). */
  backendStatus(database: string): Promise<number>;
}

/** One row of HAProxy's stats CSV, keyed by column name (pxname, svname, status, stot, check_status, ...). */
export type StatsRow = Record<string, string>;

export interface HaStack {
  readonly dir: string;
  readonly database: string;
  /** HAProxy's InfluxDB endpoint: http://127.0.0.1:PORT (/write, /query, /ping). */
  readonly url: string;
  readonly port: number;
  /** HAProxy's raw TCP line-protocol port. */
  readonly tcpPort: number;
  /** HAProxy's OpenTSDB telnet and Graphite TCP ports; both land in `netdataDatabase` (/api/put: on `port`). */
  readonly opentsdbPort: number;
  readonly graphitePort: number;
  readonly netdataDatabase: string;
  readonly statsUrl: string;
  readonly statsAuth: { readonly user: string; readonly pass: string };
  /** http://127.0.0.1:PORT of the freshness frontend (GET /fresh/<database>). */
  readonly freshnessUrl: string;
  readonly haproxyPid: number;
  readonly clusterFile: string;
  readonly relays: readonly StackRelay[];
  readonly databases: readonly StackDatabase[];
  haproxyLogs(): string;
  stats(): Promise<StatsRow[]>;
  /** The status column (UP, DOWN, "UP 1/2", ...) of one server; 'missing' when there is no such row. */
  serverStatus(backend: string, server: string): Promise<string>;
  /** Polls the stats until the server's status is exactly `status`. */
  waitForServer(backend: string, server: string, status: 'UP' | 'DOWN', timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------------

async function openLink(target: number): Promise<Link & { close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let cutOff = false;
  const keep = (s: net.Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server = net.createServer((client) => {
    keep(client);
    if (cutOff) return void client.destroy();
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    keep(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      cutOff = true;
      for (const s of sockets) s.destroy();
    },
    heal() {
      cutOff = false;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

class StackRelayImpl implements StackRelay {
  constructor(
    readonly name: string,
    private readonly httpPort: number,
    readonly tcpPort: number,
    readonly opentsdbPort: number,
    readonly graphitePort: number,
    private readonly toml: string,
    private readonly dir: string,
    public process: Relay,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  stop(): Promise<number | null> {
    return this.process.stop();
  }

  kill9(): Promise<void> {
    return this.process.kill9();
  }

  async start(): Promise<void> {
    await this.process.kill9(); // a no-op unless it is still running
    this.process = await startRelay({ toml: this.toml, dir: this.dir });
  }

  async backendStatus(database: string): Promise<number> {
    try {
      return (await get(`${this.url}/health/backends/${encodeURIComponent(database)}`, { timeoutMs: 2000 })).status;
    } catch {
      return 0;
    }
  }
}

/** The Netdata listeners' database, as `make up` names it. */
const NETDATA_DB = 'netdata';

interface RelayPorts {
  readonly http: number;
  readonly tcp: number;
  readonly opentsdb: number;
  readonly graphite: number;
}

function stackRelayToml(database: string, p: RelayPorts, outputs: RelayOutput[], spoolDir: string | undefined): string {
  const list = outputs.map((o) => '  { ' + Object.entries(o).map(([k, v]) => `${k} = ${tomlValue(v)}`).join(', ') + ' },');
  const listener = (kind: string, port: number, db: string) =>
    ['', `[[${kind}]]`, `name = "${kind}"`, `bind-addr = "127.0.0.1:${port}"`, `database = ${tomlValue(db)}`, 'output = [', ...list, ']'];
  return [
    '# A relay of the HA stack (test/helpers/ha-stack.ts): the same shape scripts/up.sh writes.',
    'shutdown-timeout = "10s"',
    ...(spoolDir === undefined ? [] : [`spool-dir = ${tomlValue(spoolDir)}`]),
    '',
    relayToml({ name: 'http', bindAddr: `127.0.0.1:${p.http}`, outputs }).trimEnd(),
    ...listener('tcp', p.tcp, database),
    ...listener('opentsdb', p.opentsdb, NETDATA_DB),
    ...listener('graphite', p.graphite, NETDATA_DB),
    '',
  ].join('\n');
}

async function startStackRelay(name: string, dir: string, database: string, outputs: RelayOutput[], spool: boolean): Promise<StackRelayImpl> {
  for (let attempt = 1; ; attempt++) {
    const [http, tcp, opentsdb, graphite] = (await freePorts(4)) as [number, number, number, number];
    const toml = stackRelayToml(database, { http, tcp, opentsdb, graphite }, outputs, spool ? path.join(dir, 'spool') : undefined);
    try {
      return new StackRelayImpl(name, http, tcp, opentsdb, graphite, toml, dir, await startRelay({ toml, dir }));
    } catch (err) {
      if (attempt < 4 && BUSY.test((err as Error).message)) continue;
      throw err;
    }
  }
}

interface HaproxyProcess {
  readonly child: ChildProcess;
  readonly capture: OutputCapture;
  readonly ports: { http: number; tcp: number; opentsdb: number; graphite: number; stats: number; freshness: number };
  readonly clusterFile: string;
}

async function startHaproxy(
  dir: string,
  relays: readonly StackRelayImpl[],
  databases: readonly StackDatabase[],
  health: { inter: string; fall: number; rise: number },
): Promise<HaproxyProcess> {
  for (let attempt = 1; ; attempt++) {
    const [http, tcp, opentsdb, graphite, stats, freshness] = (await freePorts(6)) as [number, number, number, number, number, number];
    const clusterFile = path.join(dir, 'cluster.toml');
    const cluster = {
      relays: relays.map((r) => ({
        name: r.name,
        address: `127.0.0.1:${new URL(r.url).port}`,
        'tcp-address': `127.0.0.1:${r.tcpPort}`,
        'opentsdb-address': `127.0.0.1:${r.opentsdbPort}`,
        'graphite-address': `127.0.0.1:${r.graphitePort}`,
      })),
      databases: databases.map((d) => ({ name: d.name, address: `127.0.0.1:${d.influxd.port}` })),
      http: { bind: `127.0.0.1:${http}` },
      tcp: { bind: `127.0.0.1:${tcp}` },
      opentsdb: { bind: `127.0.0.1:${opentsdb}` },
      graphite: { bind: `127.0.0.1:${graphite}` },
      stats: { bind: `127.0.0.1:${stats}`, user: STATS_AUTH.user, password: STATS_AUTH.pass },
      freshness: { port: freshness },
      health,
    };
    await writeFile(clusterFile, `# Written by test/helpers/ha-stack.ts\n${stringify(cluster)}\n`);
    const cfgFile = path.join(dir, 'haproxy.cfg');
    await writeFile(cfgFile, renderConfig(buildConfig(await loadCluster(clusterFile)), { source: clusterFile }));

    const child = spawn(HAPROXY_BIN, ['-f', cfgFile, '-db'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    const capture = new OutputCapture(1024 * 1024);
    capture.attach(child);
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    try {
      await waitForStatus(`http://127.0.0.1:${http}/ping`, {
        timeoutMs: 10_000,
        accept: () => pidListensOn(child.pid ?? -1, http) !== false,
        abort: () => {
          if (spawnError) return new Error(`cannot run ${HAPROXY_BIN}: ${spawnError.message}`);
          if (child.exitCode !== null || child.signalCode !== null) return new Error(`haproxy exited early (code ${child.exitCode}):\n${capture.tail(20)}`);
          return undefined;
        },
      });
      return { child, capture, ports: { http, tcp, opentsdb, graphite, stats, freshness }, clusterFile };
    } catch (err) {
      await terminate(child, 2000);
      if (attempt < 4 && BUSY.test(capture.text())) continue;
      throw err;
    }
  }
}

function parseStatsCsv(text: string): StatsRow[] {
  const [header, ...lines] = text.trim().split('\n');
  const columns = (header ?? '').replace(/^#\s*/, '').split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
  });
}

export async function startHaStack(opts: HaStackOptions = {}): Promise<HaStack> {
  const database = opts.database ?? 'telegraf';
  const dir = await mkdtemp(path.join(tmpdir(), 'ha-stack-'));
  trackDir(dir);
  const influxds: Influxd[] = [];
  const links: Array<Awaited<ReturnType<typeof openLink>>> = [];
  const relays: StackRelayImpl[] = [];
  let haproxy: HaproxyProcess | undefined;

  const destroy = async (): Promise<void> => {
    if (haproxy) await terminate(haproxy.child, 5000);
    await Promise.all(relays.map((r) => r.process.destroy()));
    await Promise.all(links.map((l) => l.close()));
    await Promise.all(influxds.map((d) => d.destroy()));
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    untrackDir(dir);
  };

  try {
    influxds.push(...(await Promise.all([startInfluxd(), startInfluxd()])));
    await Promise.all(influxds.map(async (d) => {
      await d.createDatabase(database);
      await d.createDatabase(NETDATA_DB);
    }));
    const databases: StackDatabase[] = [];
    for (const [i, name] of ['influxdb-a', 'influxdb-b'].entries()) {
      const influxd = influxds[i] as Influxd;
      const link = opts.links ? await openLink(influxd.port) : undefined;
      if (link) links.push(link);
      databases.push({ name, influxd, link });
    }
    const outputs = databases.map((d) => ({
      name: d.name,
      location: `http://127.0.0.1:${d.link?.port ?? d.influxd.port}/write`,
      ...opts.output,
    }));
    for (const name of ['relay-1', 'relay-2']) {
      const relayDir = path.join(dir, name);
      await mkdir(relayDir);
      relays.push(await startStackRelay(name, relayDir, database, outputs, opts.spool ?? true));
    }
    haproxy = await startHaproxy(dir, relays, databases, opts.health ?? { inter: '500ms', fall: 2, rise: 1 });

    const { ports, capture, child, clusterFile } = haproxy;
    const statsUrl = `http://127.0.0.1:${ports.stats}/stats`;
    const stats = async (): Promise<StatsRow[]> => {
      const res = await get(`${statsUrl};csv`, { auth: STATS_AUTH, timeoutMs: 2000 });
      if (res.status !== 200) throw new Error(`HAProxy stats: HTTP ${res.status}`);
      return parseStatsCsv(res.body);
    };
    const serverStatus = async (backend: string, server: string): Promise<string> =>
      (await stats()).find((r) => r['pxname'] === backend && r['svname'] === server)?.['status'] ?? 'missing';
    const waitForServer = async (backend: string, server: string, status: 'UP' | 'DOWN', timeoutMs = 10_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while ((last = await serverStatus(backend, server).catch((e: Error) => e.message)) !== status) {
        if (Date.now() > deadline) throw new Error(`HAProxy: ${backend}/${server} is ${last}, not ${status}, after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // Ready when HAProxy's own checks have passed (not just its start-up assumption that every server is up).
    const deadline = Date.now() + 15_000;
    for (;;) {
      const rows = await stats().catch(() => []);
      const checked = rows.filter((r) => ['writes', 'reads_fresh', 'reads_any'].includes(r['pxname'] ?? '') && r['svname'] !== 'BACKEND' && r['svname'] !== 'FRONTEND');
      if (checked.length === 6 && checked.every((r) => r['status'] === 'UP' && /^L[4-7]OK$/.test(r['check_status'] ?? ''))) break;
      if (Date.now() > deadline) throw new Error(`HAProxy did not see every server up in time:\n${checked.map((r) => `${r['pxname']}/${r['svname']} ${r['status']} ${r['check_status']}`).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    return {
      dir,
      database,
      url: `http://127.0.0.1:${ports.http}`,
      port: ports.http,
      tcpPort: ports.tcp,
      opentsdbPort: ports.opentsdb,
      graphitePort: ports.graphite,
      netdataDatabase: NETDATA_DB,
      statsUrl,
      statsAuth: STATS_AUTH,
      freshnessUrl: `http://127.0.0.1:${ports.freshness}`,
      haproxyPid: child.pid ?? -1,
      clusterFile,
      relays,
      databases,
      haproxyLogs: () => capture.text(),
      stats,
      serverStatus,
      waitForServer,
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}
