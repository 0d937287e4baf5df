/**
 * Runs load.ts in a child process (so the load generator's CPU is its own and measurable) and returns its result.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from '../helpers/children.js';
import { recordPid } from './pidfile.js';

export type LoadEngine = 'autocannon' | 'wrk';

export interface LoadResult {
  engine: LoadEngine;
  lines: number;
  bodyBytes: number;
  /** Wall time of the load, as the generator measured it. */
  durationS: number;
  /** 2xx answers. */
  ok: number;
  /** Requests written, answered or not. */
  sent: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** CPU seconds (user + sys) the generator used, its child wrk included. */
  loadCpuS: number;
}

export interface LoadOptions {
  url: string;
  lines: number;
  connections: number;
  durationS: number;
  seed?: number;
  unique?: boolean;
  /** With `unique`: the first timestamp, as an offset from BASE_TIME_NS in ns. */
  tsStartNs?: number;
  engine: LoadEngine;
}

const LOAD_JS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'load.js');

export function runLoad(o: LoadOptions): Promise<LoadResult> {
  const argv = [
    LOAD_JS,
    '--url', o.url,
    '--lines', String(o.lines),
    '--connections', String(o.connections),
    '--duration', String(o.durationS),
    '--seed', String(o.seed ?? 1),
    '--engine', o.engine,
    ...(o.unique ? ['--unique', '--ts-start', String(o.tsStartNs ?? 0)] : []),
  ];
  return runJsonChild<LoadResult>(argv, 'load', 'load generator');
}

/**
 * Runs a node script as its own process (recorded by PID, killed with the bench) and resolves with the JSON object on
 * the last line it prints.
 */
export function runJsonChild<T>(argv: readonly string[], pidLabel: string, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    recordPid(child.pid, pidLabel);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`${what} failed (exit ${code}):\n${err}${out}`));
      resolve(JSON.parse(last) as T);
    });
  });
}
