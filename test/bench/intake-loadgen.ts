/**
 * Runs intake-load.ts (UDP datagrams or TCP streams of line protocol) in a child process and returns its result.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJsonChild } from './loadgen.js';

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
  return runJsonChild<IntakeLoadResult>(argv, 'intake-load', 'intake load generator');
}
