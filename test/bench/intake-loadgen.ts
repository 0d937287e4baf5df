/**
 * Runs intake-load.ts (UDP datagrams or TCP streams of line protocol) in a child process and returns its result.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from '../helpers/children.js';
import { recordPid } from './pidfile.js';

export interface IntakeLoadResult {
  proto: 'udp' | 'tcp';
  connections: number;
  /** Datagrams sent (UDP) or chunks written (TCP). */
  messages: number;
  points: number;
  bytes: number;
  /** Send errors (UDP: e.g. ECONNREFUSED; TCP: socket errors). */
  errors: number;
  linesPerMessage: number;
  durationS: number;
  /** CPU seconds (user + sys) the generator used. */
  cpuS: number;
}

export interface IntakeLoadOptions {
  proto: 'udp' | 'tcp';
  port: number;
  connections: number;
  durationS: number;
}

const LOAD_JS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'intake-load.js');

export function runIntakeLoad(o: IntakeLoadOptions): Promise<IntakeLoadResult> {
  const argv = [LOAD_JS, '--proto', o.proto, '--port', String(o.port), '--connections', String(o.connections), '--duration', String(o.durationS)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    recordPid(child.pid, 'intake-load');
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`intake load generator failed (exit ${code}):\n${err}${out}`));
      resolve(JSON.parse(last) as IntakeLoadResult);
    });
  });
}
