// A real influxd 1.6 for tests: loopback ports (HTTP and RPC), its own temp dir for
// meta/data/wal, quiet logs, optional auth with an admin user created right after start.
// Processes are tracked in children.ts and SIGKILLed if the test process dies.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { killNow, OutputCapture, terminate, track, trackDir, untrackDir } from './children.js';
import { post, waitForStatus } from './http.js';
import type { HttpResponse } from './http.js';
import { tomlValue } from './relay-toml.js';
import type { TomlValue } from './relay-toml.js';
import { freePorts, pidListensOn, portInUse } from './ports.js';

export const INFLUXD_BIN = process.env.INFLUXD_BIN ?? '/usr/bin/influxd';

export interface Credentials {
  user: string;
  pass: string;
}

export interface QueryOptions {
  db?: string;
  /** e.g. 'ns'; without it InfluxDB answers RFC3339 strings. */
  epoch?: string;
  /** Defaults to the admin user when the server has auth enabled; null sends no credentials. */
  auth?: Credentials | null;
}

export interface RetentionPolicySpec {
  name: string;
  /** InfluxQL duration, e.g. '1h', 'INF'. */
  duration: string;
  default?: boolean;
}

export interface Influxd {
  readonly url: string;
  readonly port: number;
  readonly rpcPort: number;
  readonly pid: number;
  /** The temp dir holding influxd.conf, meta/, data/, wal/. */
  readonly dataDir: string;
  /** Admin credentials when started with auth. */
  readonly admin: Credentials | undefined;
  query(q: string, opts?: QueryOptions): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  createDatabase(db: string, rp?: RetentionPolicySpec): Promise<void>;
  /** POST /write; throws unless 204. */
  write(db: string, lines: string, opts?: { rp?: string; precision?: string; auth?: Credentials | null }): Promise<void>;
  /** SELECT * with epoch=ns; `time` is the exact ns timestamp as a decimal string; big ints are bigint. */
  points(db: string, measurement: string, opts?: { rp?: string; auth?: Credentials | null }): Promise<Array<Record<string, unknown>>>;
  /** count(field) of a measurement (0 when it has no points yet): what most tests wait on. */
  count(db: string, measurement: string, field?: string): Promise<number>;
  /** SHOW DATABASES, as names. */
  databases(): Promise<string[]>;
  /** Output captured from influxd (last lines). */
  logs(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export interface StartInfluxdOptions {
  auth?: boolean;
  adminUser?: string;
  adminPass?: string;
  /** Fixed HTTP port; a free one otherwise. */
  port?: number;
  startTimeoutMs?: number;
  /** Config keys to set per section, e.g. { http: { 'max-body-size': 1000 } }; '' is the top level. */
  overrides?: InfluxdOverrides;
  /** Raw TOML appended to influxd.conf, e.g. `[[opentsdb]]` or `[[graphite]]` services (arrays of tables). */
  extraConfig?: string;
}

/** Double-quoted InfluxQL identifier. */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** Single-quoted InfluxQL string literal. */
export function quoteString(s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

export type InfluxdOverrides = Record<string, Record<string, TomlValue>>;

/** influxd.conf text; `overrides` set or replace keys per section ('' is the top level). */
export function influxdConf(o: { dir: string; httpPort: number; rpcPort: number; auth: boolean; overrides?: InfluxdOverrides }): string {
  const conf: InfluxdOverrides = {
    '': { 'reporting-disabled': true, 'bind-address': `127.0.0.1:${o.rpcPort}` },
    meta: { dir: path.join(o.dir, 'meta'), 'logging-enabled': false },
    data: { dir: path.join(o.dir, 'data'), 'wal-dir': path.join(o.dir, 'wal'), 'query-log-enabled': false },
    monitor: { 'store-enabled': false },
    subscriber: { enabled: false },
    http: { 'bind-address': `127.0.0.1:${o.httpPort}`, 'auth-enabled': o.auth, 'log-enabled': false, 'pprof-enabled': false },
    logging: { level: 'warn', 'suppress-logo': true },
    continuous_queries: { 'log-enabled': false },
  };
  for (const [section, keys] of Object.entries(o.overrides ?? {})) conf[section] = { ...conf[section], ...keys };
  const out: string[] = [];
  for (const [section, keys] of Object.entries(conf)) {
    if (section !== '') out.push('', `[${section}]`);
    for (const [k, v] of Object.entries(keys)) out.push(`${k} = ${tomlValue(v)}`);
  }
  return out.join('\n').trimStart() + '\n';
}

class InfluxdError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

class InfluxdProcess implements Influxd {
  readonly url: string;
  private child: ChildProcess | undefined;
  private capture = new OutputCapture(256 * 1024);
  private destroyed = false;

  constructor(
    readonly port: number,
    readonly rpcPort: number,
    readonly dataDir: string,
    private readonly confPath: string,
    readonly admin: Credentials | undefined,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  logs(): string {
    return this.capture.text();
  }

  /** Spawn and wait for /ping 204; rejects (with the stderr tail) if influxd exits first. */
  async spawn(timeoutMs: number): Promise<void> {
    if (await portInUse(this.port)) throw new InfluxdError(`port 127.0.0.1:${this.port} is already in use`);
    const env = { ...process.env };
    // INFLUXDB_* variables override the config file; a stray one must not change the test server.
    for (const k of Object.keys(env)) if (k.startsWith('INFLUXDB_')) delete env[k];
    const child = spawn(INFLUXD_BIN, ['-config', this.confPath], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child = child;
    track(child);
    this.capture.attach(child);
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    try {
      await waitForStatus(`${this.url}/ping`, {
        timeoutMs,
        // Only our influxd's answer counts, not that of a server that grabbed the port.
        accept: () => pidListensOn(child.pid ?? -1, this.port) !== false,
        abort: () => {
          if (spawnError) return new Error(`cannot run ${INFLUXD_BIN}: ${spawnError.message}`);
          if (child.exitCode !== null || child.signalCode !== null)
            return new InfluxdError(`influxd exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${this.capture.tail(20)}`);
          return undefined;
        },
      });
    } catch (err) {
      await killNow(child);
      const e = err as Error;
      throw e instanceof InfluxdError ? e : new Error(`${e.message}\ninfluxd output:\n${this.capture.tail(20)}`);
    }
  }

  private auth(opts?: { auth?: Credentials | null }): Credentials | undefined {
    if (opts?.auth === null) return undefined;
    return opts?.auth ?? this.admin;
  }

  async query(q: string, opts: QueryOptions = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const form = new URLSearchParams({ q });
    if (opts.db !== undefined) form.set('db', opts.db);
    if (opts.epoch !== undefined) form.set('epoch', opts.epoch);
    const res = await post(`${this.url}/query`, form.toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      auth: this.auth(opts),
    });
    const json = res.json as { error?: string; results?: Array<{ error?: string }> } | undefined;
    const stmtErr = json?.results?.find((r) => r.error !== undefined)?.error;
    if (res.status < 200 || res.status > 299 || json === undefined || json.error !== undefined || stmtErr !== undefined)
      throw new InfluxdError(`query ${JSON.stringify(q)} on ${this.url}: ${describe(res)}`, res.status);
    return json;
  }

  async createDatabase(db: string, rp?: RetentionPolicySpec): Promise<void> {
    await this.query(`CREATE DATABASE ${quoteIdent(db)}`);
    if (rp === undefined) return;
    await this.query(
      `CREATE RETENTION POLICY ${quoteIdent(rp.name)} ON ${quoteIdent(db)} DURATION ${rp.duration} REPLICATION 1` +
        (rp.default ? ' DEFAULT' : ''),
    );
  }

  async write(db: string, lines: string, opts: { rp?: string; precision?: string; auth?: Credentials | null } = {}): Promise<void> {
    const qs = new URLSearchParams({ db });
    if (opts.rp !== undefined) qs.set('rp', opts.rp);
    if (opts.precision !== undefined) qs.set('precision', opts.precision);
    const res = await post(`${this.url}/write?${qs}`, lines, { auth: this.auth(opts) });
    if (res.status !== 204) throw new InfluxdError(`write to ${this.url} db=${db}: ${describe(res)}`, res.status);
  }

  async databases(): Promise<string[]> {
    const r = (await this.query('SHOW DATABASES')) as { results?: Array<{ series?: Array<{ values?: string[][] }> }> };
    return (r.results?.[0]?.series?.[0]?.values ?? []).map((v) => v[0]!);
  }

  async count(db: string, measurement: string, field = 'v'): Promise<number> {
    const r = (await this.query(`SELECT count(${quoteIdent(field)}) FROM ${quoteIdent(measurement)}`, { db })) as {
      results?: Array<{ series?: Array<{ values?: unknown[][] }> }>;
    };
    const v = r.results?.[0]?.series?.[0]?.values?.[0]?.[1];
    return v === undefined ? 0 : Number(v);
  }

  async points(db: string, measurement: string, opts: { rp?: string; auth?: Credentials | null } = {}): Promise<Array<Record<string, unknown>>> {
    const from = (opts.rp !== undefined ? quoteIdent(opts.rp) + '.' : '') + quoteIdent(measurement);
    const json = (await this.query(`SELECT * FROM ${from}`, { db, epoch: 'ns', auth: this.auth(opts) })) as {
      results: Array<{ series?: Array<{ columns: string[]; values: unknown[][] }> }>;
    };
    const rows: Array<Record<string, unknown>> = [];
    for (const series of json.results[0]?.series ?? []) {
      for (const values of series.values) {
        const row: Record<string, unknown> = {};
        series.columns.forEach((col, i) => {
          row[col] = col === 'time' ? String(values[i]) : values[i];
        });
        rows.push(row);
      }
    }
    return rows;
  }

  async stop(): Promise<void> {
    if (this.child) await terminate(this.child, 10_000);
  }

  async kill(): Promise<void> {
    if (this.child) await killNow(this.child);
  }

  async restart(): Promise<void> {
    if (this.destroyed) throw new Error('restart() after destroy()');
    await this.stop();
    await this.spawn(30_000);
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true, maxRetries: 3 });
    untrackDir(this.dataDir);
  }
}

function describe(res: HttpResponse): string {
  return `HTTP ${res.status} ${res.body.trim().slice(0, 500)}`;
}

export async function startInfluxd(opts: StartInfluxdOptions = {}): Promise<Influxd> {
  const auth = opts.auth ?? false;
  const admin = auth ? { user: opts.adminUser ?? 'admin', pass: opts.adminPass ?? 'admin-secret' } : undefined;
  // Free ports can be taken between probe and bind (parallel tests): retry with fresh ones.
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(path.join(tmpdir(), 'influxd-test-'));
    trackDir(dir);
    const [free1, free2] = await freePorts(2);
    const httpPort = opts.port ?? (free1 as number);
    const rpcPort = free2 as number;
    const confPath = path.join(dir, 'influxd.conf');
    await writeFile(confPath, influxdConf({ dir, httpPort, rpcPort, auth, overrides: opts.overrides }) + (opts.extraConfig ?? ''));
    const inst = new InfluxdProcess(httpPort, rpcPort, dir, confPath, admin);
    try {
      await inst.spawn(opts.startTimeoutMs ?? 30_000);
    } catch (err) {
      await inst.destroy();
      const busy = /address already in use|is already in use/i.test((err as Error).message);
      if (busy && opts.port === undefined && attempt < 4) continue;
      throw err;
    }
    if (admin) {
      // The first user may be created without credentials; it must be an admin.
      await inst.query(`CREATE USER ${quoteIdent(admin.user)} WITH PASSWORD ${quoteString(admin.pass)} WITH ALL PRIVILEGES`, { auth: null });
    }
    return inst;
  }
}
