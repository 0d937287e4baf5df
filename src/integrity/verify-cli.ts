/**
 * `influx-relay verify`: compares replicas (read-only). Exit codes: 0 identical, 1 different, 2 error (usage,
 * config, a replica unreachable or refusing a query).
 * Also the flag and time parsing shared with `influx-relay repair`.
 */
import { ConfigError } from '../config/errors.js';
import { loadConfigFile } from '../config/load.js';
import type { RelayConfig } from '../config/types.js';
import { parseGoDuration } from '../config/duration.js';
import type { CommandIO } from '../cli-args.js';
import { InfluxQLClient } from './influxql-client.js';
import { backendsFromConfig } from './replicas.js';
import { formatNs } from './time-range.js';
import { compareReplicas, DEFAULT_WINDOW_NS, type Difference, type Replica } from './verify.js';

export const VERIFY_USAGE = `usage: influx-relay verify --backend URL --backend URL [options]
       influx-relay verify -config relay.toml [options]

Compares InfluxDB 1.x replicas, read-only: every database (but _internal), retention policy and measurement,
window by window (counts per field; --deep: a digest of the points). See docs/integrity.md.

  --backend URL       a replica (http://user:pass@host:8086); give two or more
  -config FILE        take the replicas from a relay config's outputs (deduplicated by location)
  --db NAME           only this database (repeatable)
  --start T --end T   time range: RFC 3339, integer nanoseconds, 'now' or 'now-2h' (default: all the data)
  --window D          window of the first pass (Go duration, default 1h); differing windows are examined in
                      windows ten times smaller, down to --min-window (default 1m)
  --deep              also compare a digest of the points of windows whose counts agree (reads every value)
  --concurrency N     queries in flight at once, over all replicas (default 2)
  --json              one JSON document on stdout
Exit: 0 identical, 1 different, 2 error.
`;

export class FlagError extends Error {}

/** Parsed flags: repeatable values become lists, booleans true. */
export type Flags = Map<string, string[] | true>;

/** `--name value`, `--name=value`, `-name value`; `bools` take no value. */
export function parseFlags(argv: readonly string[], values: ReadonlySet<string>, bools: ReadonlySet<string>): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/.exec(arg);
    if (!m) throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const name = m[1] ?? '';
    if (bools.has(name)) flags.set(name, true);
    else if (values.has(name)) {
      const value = m[2] ?? argv[++i];
      if (value === undefined || value === '') throw new FlagError(`-${name} needs a value`);
      const list = flags.get(name);
      flags.set(name, [...(Array.isArray(list) ? list : []), value]);
    } else throw new FlagError(`unknown flag -${name}`);
  }
  return flags;
}

export const flagValue = (flags: Flags, name: string): string | undefined => {
  const v = flags.get(name);
  return Array.isArray(v) ? v[v.length - 1] : undefined;
};
export const flagList = (flags: Flags, name: string): string[] => {
  const v = flags.get(name);
  return Array.isArray(v) ? v : [];
};

/** A Go duration as nanoseconds; throws FlagError. */
export function parseDurationNs(text: string, flag: string): bigint {
  const ms = parseGoDuration(text);
  if (ms === undefined || ms <= 0) throw new FlagError(`-${flag}: not a positive duration: ${text}`);
  return BigInt(Math.round(ms * 1e6));
}

/** RFC 3339 (nanoseconds kept), integer nanoseconds, `now`, `now-<duration>`. */
export function parseTimeNs(text: string, flag: string, nowMs = Date.now()): bigint {
  if (/^-?\d+$/.test(text)) return BigInt(text);
  const rel = /^now(?:-(.+))?$/.exec(text);
  if (rel) return BigInt(nowMs) * 1_000_000n - (rel[1] !== undefined ? parseDurationNs(rel[1], flag) : 0n);
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new FlagError(`-${flag}: not a time (RFC 3339, ns, or now-1h): ${text}`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** A relay output's URL for queries: its origin, with its credentials (http-user/http-pass win over the URL's). */

export function loadConfigOrFail(file: string): RelayConfig {
  try {
    return loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) throw new FlagError(`invalid config ${file}:\n${err.message}`);
    throw err;
  }
}

/** Progress on stderr at most every 2 s, erased-line style when stderr is a terminal. */
export function progressPrinter(io: CommandIO, label: string): { update(text: string): void; done(): void } {
  let last = 0;
  let shown = false;
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < 2000) return;
      last = now;
      shown = true;
      io.stderr.write(tty ? `\r${label}: ${text}\x1b[K` : `${label}: ${text}\n`);
    },
    done() {
      if (shown && tty) io.stderr.write('\n');
    },
  };
}

const rpName = (rp: string | undefined): string => (rp === undefined ? '' : rp === '' ? '(default)' : rp);

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ') + '\n';
  return line(header) + rows.map(line).join('');
}

export function differencesTable(diffs: readonly Difference[], replicas: readonly string[]): string {
  const rows = diffs.map((d) => {
    const what =
      d.kind === 'window'
        ? `${formatNs(d.startNs!)} .. ${formatNs(d.endNs!)}`
        : `${d.kind} ${d.present?.every(Boolean) ? 'settings differ' : 'missing on some'}`;
    const per = replicas.map((_, i) =>
      d.kind === 'window'
        ? String(d.counts![i] ?? 0) + (d.digests ? ` #${d.digests[i]}` : '')
        : d.detail !== undefined
          ? (d.detail.split(' | ')[i] ?? '')
          : d.present![i]
            ? 'present'
            : 'absent',
    );
    return [d.db, rpName(d.rp), d.measurement ?? '', what, ...per];
  });
  return table(['DB', 'RP', 'MEASUREMENT', 'WINDOW', ...replicas], rows);
}

/** JSON-safe form of a difference (bigint times as decimal strings and RFC 3339). */
export function differenceJson(d: Difference): Record<string, unknown> {
  return {
    ...d,
    ...(d.startNs !== undefined ? { startNs: d.startNs.toString(), start: formatNs(d.startNs) } : {}),
    ...(d.endNs !== undefined ? { endNs: d.endNs.toString(), end: formatNs(d.endNs) } : {}),
  };
}

/** The replicas named on the command line (--backend, repeatable) or in a relay config. */
export { backendsFromConfig } from './replicas.js';

export function replicasFromFlags(flags: Flags, flag: string, concurrency: number): Replica[] {
  const config = flagValue(flags, 'config');
  const urls = flagList(flags, flag).map((url) => ({ name: '', url }));
  const list = config !== undefined ? [...backendsFromConfig(loadConfigOrFail(config)), ...urls] : urls;
  return list.map(({ name, url }) => {
    let client: InfluxQLClient;
    try {
      client = new InfluxQLClient(url, { connections: Math.max(2, concurrency) });
    } catch {
      throw new FlagError(`not a URL: ${url}`);
    }
    return { name: name || client.origin, client };
  });
}

export async function verifyCommand(argv: string[], io: CommandIO = process): Promise<number> {
  let replicas: Replica[] = [];
  try {
    const flags = parseFlags(
      argv,
      new Set(['backend', 'config', 'db', 'start', 'end', 'window', 'min-window', 'concurrency']),
      new Set(['deep', 'json', 'help', 'h']),
    );
    if (flags.has('help') || flags.has('h')) {
      io.stdout.write(VERIFY_USAGE);
      return 0;
    }
    const concurrency = Number(flagValue(flags, 'concurrency') ?? '2');
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new FlagError('-concurrency must be a positive integer');
    replicas = replicasFromFlags(flags, 'backend', concurrency);
    if (replicas.length < 2) throw new FlagError('give at least two replicas (--backend URL twice, or -config with two outputs)');
    const start = flagValue(flags, 'start');
    const end = flagValue(flags, 'end');
    const window = flagValue(flags, 'window');
    const minWindow = flagValue(flags, 'min-window');
    const progress = progressPrinter(io, 'verify');
    const t0 = Date.now();
    let diffs: Difference[];
    try {
      diffs = await compareReplicas({
        replicas,
        databases: flagList(flags, 'db'),
        ...(start !== undefined ? { startNs: parseTimeNs(start, 'start') } : {}),
        ...(end !== undefined ? { endNs: parseTimeNs(end, 'end') } : {}),
        windowNs: window !== undefined ? parseDurationNs(window, 'window') : DEFAULT_WINDOW_NS,
        ...(minWindow !== undefined ? { minWindowNs: parseDurationNs(minWindow, 'min-window') } : {}),
        deep: flags.has('deep'),
        concurrency,
        onProgress: (p) => progress.update(`${p.done}/${p.total} measurements, ${p.differences} differing windows, ${Math.round((Date.now() - t0) / 1000)}s`),
      });
    } finally {
      progress.done();
    }
    const names = replicas.map((r) => r.name);
    if (flags.has('json')) {
      io.stdout.write(JSON.stringify({ replicas: names, identical: diffs.length === 0, differences: diffs.map(differenceJson) }, null, 2) + '\n');
    } else if (diffs.length === 0) {
      io.stdout.write(`identical: ${names.join(', ')}\n`);
    } else {
      io.stdout.write(differencesTable(diffs, names));
      io.stdout.write(`${diffs.length} difference${diffs.length === 1 ? '' : 's'}\n`);
    }
    return diffs.length === 0 ? 0 : 1;
  } catch (err) {
    const usage = err instanceof FlagError ? `\n${VERIFY_USAGE}` : '';
    io.stderr.write(`influx-relay verify: ${err instanceof Error ? err.message : String(err)}${usage}\n`);
    return 2;
  } finally {
    await Promise.all(replicas.map((r) => r.client.close()));
  }
}
