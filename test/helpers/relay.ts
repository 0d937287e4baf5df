// Spawns the BUILT relay (`node dist/src/main.js -config <dir>/relay.toml`) as a child
// process, waits for GET /ping 204 on its [[http]] bind-addr, and captures its output.
// Used by e2e tests (kill -9, restart on the same dir) and by anything needing a real relay.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';
import { exited, killNow, OutputCapture, terminate, track, trackDir, untrackDir } from './children.js';
import type { ExitInfo } from './children.js';
import { waitForStatus } from './http.js';

export { relayToml } from './relay-toml.js';
export type { RelayOutput, RelayTomlOptions } from './relay-toml.js';
export type { ExitInfo } from './children.js';

/** The repo root: the nearest ancestor of this file holding package.json (works from test/ and dist/test/). */
export const REPO_ROOT = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('relay helper: no package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

export const RELAY_MAIN = process.env.RELAY_MAIN ?? path.join(REPO_ROOT, 'dist', 'src', 'main.js');

export interface StartRelayOptions {
  toml: string;
  env?: Record<string, string>;
  /** Extra argv after `-config <path>`. */
  args?: string[];
  /** Reuse a directory (e.g. to restart on the same spool); a fresh temp dir otherwise. It is the child's cwd. */
  dir?: string;
  /** Readiness URL; default http://<[[http]] bind-addr>/ping (expects 204). */
  readyUrl?: string;
  startTimeoutMs?: number;
  /** Script to run instead of RELAY_MAIN (tests of this helper use a stub). */
  main?: string;
  /** An executable to run instead of node (e.g. the Go influxdb-relay, which takes the same `-config <path>`). */
  command?: string;
}

export interface Relay {
  /** http://host:port of the first [[http]] listener. */
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  readonly configPath: string;
  /** Everything the relay printed so far (stdout + stderr, interleaved as received). */
  logs(): string;
  /** stdout/stderr lines that parse as JSON (pino log records). */
  logRecords(): Array<Record<string, unknown>>;
  /** SIGTERM, wait (SIGKILL after 15 s); resolves with the exit code (null if killed by a signal). */
  stop(): Promise<number | null>;
  /** SIGKILL now and wait for the exit. */
  kill9(): Promise<void>;
  waitExit(): Promise<ExitInfo>;
  /** kill9 if needed, then remove the dir if startRelay created it. */
  destroy(): Promise<void>;
}

function urlFromBindAddr(addr: string): string {
  const i = addr.lastIndexOf(':');
  let host = addr.slice(0, i);
  const port = addr.slice(i + 1);
  if (host === '' || host === '0.0.0.0' || host === '[::]' || host === '::') host = '127.0.0.1';
  return `http://${host}:${port}`;
}

/** http://host:port of the first [[http]] bind-addr, or undefined when the TOML has none (or is invalid). */
export function relayHttpUrl(toml: string): string | undefined {
  try {
    const doc = parse(toml) as { http?: Array<{ 'bind-addr'?: unknown }> };
    const addr = doc.http?.[0]?.['bind-addr'];
    return typeof addr === 'string' ? urlFromBindAddr(addr) : undefined;
  } catch {
    return undefined;
  }
}

function parseRecords(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial or non-JSON line
    }
  }
  return out;
}

class RelayProcess implements Relay {
  private readonly capture = new OutputCapture(16 * 1024 * 1024);
  private removed = false;

  constructor(
    readonly url: string,
    readonly dir: string,
    readonly configPath: string,
    private readonly ownsDir: boolean,
    private readonly child: ChildProcess,
  ) {
    this.capture.attach(child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  logs(): string {
    return this.capture.text();
  }

  logRecords(): Array<Record<string, unknown>> {
    return parseRecords(this.logs());
  }

  async stop(): Promise<number | null> {
    return (await terminate(this.child, 15_000)).code;
  }

  async kill9(): Promise<void> {
    await killNow(this.child);
  }

  waitExit(): Promise<ExitInfo> {
    return exited(this.child);
  }

  async destroy(): Promise<void> {
    await killNow(this.child);
    if (this.ownsDir && !this.removed) {
      this.removed = true;
      await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
      untrackDir(this.dir);
    }
  }
}

async function prepare(opts: { toml: string; dir?: string }): Promise<{ dir: string; configPath: string; ownsDir: boolean }> {
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(tmpdir(), 'relay-test-')));
  if (ownsDir) trackDir(dir);
  const configPath = path.join(dir, 'relay.toml');
  await writeFile(configPath, opts.toml);
  return { dir, configPath, ownsDir };
}

function relayMain(opts: { main?: string; command?: string }): string {
  if (opts.command !== undefined) return opts.command;
  const main = opts.main ?? RELAY_MAIN;
  if (!existsSync(main)) throw new Error(`relay not built: ${main} is missing (run npm run build)`);
  return main;
}

/** RELAY_NODE_ARGS: node flags for the relay's process (V8 experiments in benchmarks, e.g. `--v8-pool-size=1`). */
function nodeFlags(): string[] {
  return (process.env.RELAY_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
}

function spawnRelay(
  configPath: string,
  dir: string,
  opts: { env?: Record<string, string>; args?: string[]; main?: string; command?: string },
): ChildProcess {
  const main = relayMain(opts);
  const argv = ['-config', configPath, ...(opts.args ?? [])];
  const child = spawn(opts.command ?? process.execPath, opts.command === undefined ? [...nodeFlags(), main, ...argv] : argv, {
    cwd: dir,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  return child;
}

export async function startRelay(opts: StartRelayOptions): Promise<Relay> {
  const readyUrl = opts.readyUrl ?? relayHttpUrl(opts.toml)?.concat('/ping');
  if (readyUrl === undefined) throw new Error('startRelay: the TOML has no [[http]] bind-addr; pass readyUrl');
  relayMain(opts);
  const { dir, configPath, ownsDir } = await prepare(opts);
  const child = spawnRelay(configPath, dir, opts);
  const relay = new RelayProcess(relayHttpUrl(opts.toml) ?? new URL(readyUrl).origin, dir, configPath, ownsDir, child);
  try {
    await waitForStatus(readyUrl, {
      status: 204,
      timeoutMs: opts.startTimeoutMs ?? 20_000,
      abort: () =>
        child.exitCode !== null || child.signalCode !== null
          ? new Error(`relay exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${relay.logs()}`)
          : undefined,
    });
  } catch (err) {
    await relay.destroy();
    const e = err as Error;
    throw e.message.startsWith('relay exited early') ? e : new Error(`${e.message}\nrelay output:\n${relay.logs()}`);
  }
  return relay;
}

/** Runs the relay expecting it to exit by itself (e.g. a config error); SIGKILLs it after timeoutMs. */
export async function runRelayToExit(opts: {
  toml: string;
  env?: Record<string, string>;
  args?: string[];
  timeoutMs?: number;
  main?: string;
}): Promise<ExitInfo & { output: string; timedOut: boolean }> {
  relayMain(opts);
  const { dir, configPath } = await prepare(opts);
  const child = spawnRelay(configPath, dir, opts);
  const capture = new OutputCapture();
  capture.attach(child);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void killNow(child);
  }, opts.timeoutMs ?? 10_000);
  const info = await exited(child);
  clearTimeout(timer);
  await rm(dir, { recursive: true, force: true });
  untrackDir(dir);
  return { ...info, output: capture.text(), timedOut };
}
