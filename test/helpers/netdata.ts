// A real Netdata agent (Debian's netdata-core) for tests: foreground (-D), its own config, cache, lib, log and run
// dirs in a temp dir, one-second collection, only the internal collectors (no external plugins: the plugins dir is
// empty), no web server, no health, no ML, and an exporting.conf the test writes. Started in its own process group
// and stopped by that group's id.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exited, track, trackDir, untrackDir } from './children.js';

export const NETDATA_BIN = process.env.NETDATA_BIN ?? '/usr/sbin/netdata';

/** Why a real Netdata cannot run here, or undefined when it can. */
export function netdataMissing(): string | undefined {
  if (!existsSync(NETDATA_BIN)) return `${NETDATA_BIN} not found: install Debian's netdata-core (make deps), or set NETDATA_BIN`;
  return undefined;
}

/** One exporting instance: `[<connector>:<name>]` in exporting.conf. */
export interface ExportingInstance {
  /** `opentsdb` (telnet), `opentsdb:http`, `graphite`. */
  readonly connector: string;
  readonly name: string;
  readonly destination: string;
  /** Intervals of data Netdata keeps while the destination fails (`buffer on failures`). */
  readonly bufferOnFailures?: number;
  /** First part of every metric name (`prefix`, Netdata's default `netdata`). */
  readonly prefix?: string;
}

export interface Netdata {
  readonly pid: number;
  readonly dir: string;
  /** Netdata's error log (where the exporting engine reports connects, failures and resends). */
  log(): string;
  /** SIGTERM to the process group, SIGKILL after graceMs; removes the temp dir. */
  stop(graceMs?: number): Promise<void>;
}

function netdataConf(dir: string): string {
  const user = os.userInfo().username;
  return `[global]
  run as user = ${user}
  hostname = netdata-test
[db]
  update every = 1
  mode = ram
[directories]
  config = ${dir}/conf
  stock config = /usr/lib/netdata/conf.d
  cache = ${dir}/cache
  lib = ${dir}/lib
  log = ${dir}/log
  run = ${dir}/run
  plugins = ${dir}/plugins
[logs]
  debug log = none
  error log = ${dir}/log/error.log
  access log = none
[web]
  mode = none
[plugins]
  enable running new plugins = no
  idlejitter = yes
  proc = no
  diskspace = no
  cgroups = no
  tc = no
  statsd = no
  timex = no
  checks = no
  apps = no
  ebpf = no
  go.d = no
  python.d = no
  charts.d = no
[health]
  enabled = no
[ml]
  enabled = no
[registry]
  enabled = no
`;
}

function exportingConf(instances: readonly ExportingInstance[]): string {
  const blocks = instances.map(
    (i) => `[${i.connector}:${i.name}]
  enabled = yes
  destination = ${i.destination}
  update every = 1
  buffer on failures = ${i.bufferOnFailures ?? 10}
  timeout ms = 2000
  send names instead of ids = yes
  prefix = ${i.prefix ?? 'netdata'}
`,
  );
  return ['[exporting:global]\n  enabled = yes\n', ...blocks].join('\n');
}

export function startNetdata(instances: readonly ExportingInstance[]): Netdata {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netdata-test-'));
  trackDir(dir);
  for (const d of ['conf', 'cache', 'lib', 'log', 'run', 'plugins']) mkdirSync(path.join(dir, d));
  writeFileSync(path.join(dir, 'conf', 'netdata.conf'), netdataConf(dir));
  writeFileSync(path.join(dir, 'conf', 'exporting.conf'), exportingConf(instances));
  const child: ChildProcess = spawn(NETDATA_BIN, ['-D', '-c', path.join(dir, 'conf', 'netdata.conf')], {
    cwd: dir,
    detached: true, // its own process group: stop() signals the group, so nothing it forked stays behind
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  track(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${NETDATA_BIN}`);
  const group = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // the group is gone
    }
  };
  return {
    pid,
    dir,
    log: () => {
      try {
        return readFileSync(path.join(dir, 'log', 'error.log'), 'utf8');
      } catch {
        return '';
      }
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        group('SIGTERM');
        const timer = setTimeout(() => group('SIGKILL'), graceMs);
        await exited(child);
        clearTimeout(timer);
      }
      group('SIGKILL'); // anything it forked that outlived it
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      untrackDir(dir);
    },
  };
}
