/**
 * The relay under test: the built relay (dist/src/main.js) with one [[http]] listener mirroring to the given
 * outputs, at log level warn (no line per request). With `profileDir`, it runs under the CPU profiler
 * (profiled-relay.ts) and writes its .cpuprofile there when stopped (SIGTERM).
 */
import { freePort } from '../helpers/ports.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { relayToml, startRelay } from '../helpers/relay.js';
import type { Relay, RelayOutput } from '../helpers/relay.js';
import { recordPid } from './pidfile.js';

const PROFILED_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'profiled-relay.js');

export interface BenchRelay {
  relay: Relay;
  /** The relay.toml it runs with, for the report. */
  toml: string;
}

export interface BenchRelayExtra {
  /** Top-level TOML lines placed before [[http]] (e.g. spool-dir, fsync). */
  head?: string;
  /** TOML appended after [[http]] (e.g. a [[udp]] or [[tcp]] listener); a function gets a fresh free port. */
  extra?: (port: number) => string;
}

export async function startBenchRelay(outputs: RelayOutput[], profileDir?: string, more: BenchRelayExtra = {}): Promise<BenchRelay> {
  for (let attempt = 1; ; attempt++) {
    const extra = more.extra ? more.extra(await freePort()) : undefined;
    const toml =
      'log-level = "warn"\n' +
      (more.head ? more.head.trim() + '\n' : '') +
      relayToml({ bindAddr: `127.0.0.1:${await freePort()}`, name: 'bench', outputs, ...(extra ? { extra } : {}) });
    try {
      const relay = await startRelay({
        toml,
        ...(profileDir ? { env: { BENCH_CPU_PROF_DIR: profileDir }, main: PROFILED_MAIN } : {}),
        startTimeoutMs: 30_000,
      });
      recordPid(relay.pid, 'relay');
      return { relay, toml };
    } catch (err) {
      // The probed port can be taken before the relay binds it (other tests run in parallel).
      if (attempt < 4 && /EADDRINUSE|address already in use/i.test((err as Error).message)) continue;
      throw err;
    }
  }
}
