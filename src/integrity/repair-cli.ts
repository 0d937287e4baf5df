/**
 * `influx-relay repair`: copies what a replica lacks from another (see repair.ts). Exit codes: 0 repaired (or
 * nothing to repair), 1 some window still short on the target after its write, 2 error (usage, config, I/O).
 * With --from-ledger it repairs the relay's unrepaired missed windows and prints their ids; it never writes the
 * ledger: the relay owns that file.
 */
import path from 'node:path';
import type { CommandIO } from '../cli-args.js';
import { InfluxQLClient } from './influxql-client.js';
import { readLedger } from './ledger-file.js';
import { ledgerFile } from './ledger.js';
import { ensureSchema, planRepair, repairWindows, type CopyWindow, type RepairResult } from './repair.js';
import { ledgerCopyWindows } from './replicas.js';
import { formatNs } from './time-range.js';
import { DEFAULT_WINDOW_NS, type Replica } from './verify.js';
import {
  backendsFromConfig,
  flagList,
  flagValue,
  FlagError,
  loadConfigOrFail,
  parseDurationNs,
  parseFlags,
  parseTimeNs,
  progressPrinter,
  type Flags,
} from './verify-cli.js';

export const REPAIR_USAGE = `usage: influx-relay repair --source URL --target URL [options]
       influx-relay repair --from-ledger -config relay.toml [options]

Copies the points a replica lacks from another, as line protocol (idempotent; never deletes), creating missing
databases and retention policies first, and checks each window's counts after writing it. See docs/integrity.md.

  --source URL --target URL   copy from source to target what verify finds different (an empty target is filled)
  --both                      then the other way too: each replica becomes the union of the two
  --from-ledger -config FILE  repair exactly the relay's unrepaired missed windows, each backend from another one
  --db NAME                   only this database (repeatable)
  --start T --end T           time range: RFC 3339, integer ns, 'now' or 'now-2h' (default: all the data)
  --window D                  unit of work, progress and checkpoint (Go duration, default 1h); sparse data
                              is copied in units of several windows, about --unit-points points (100000)
  --deep                      also find windows with equal counts but different values (reads everything)
  --dry-run                   print what would be created and copied; write nothing
  --checkpoint FILE           finished windows are recorded here and skipped after a restart (default:
                              ./influx-relay-repair.checkpoint, or next to the ledger with --from-ledger);
                              removed when the repair completes
  --max-points-per-second N   pace the writes (default: unlimited)
  --concurrency N             queries in flight while comparing (default 2); windows are copied one at a time
  --json                      a JSON summary on stdout
Exit: 0 repaired or nothing to repair, 1 a window still short after its write, 2 error.
`;

interface Job {
  readonly source: Replica;
  readonly target: Replica;
  /** Ledger mode: the windows and the ids they repair. Otherwise planned from a comparison. */
  readonly windows?: CopyWindow[];
  readonly databases?: string[];
  readonly ids?: string[];
}

interface Common {
  readonly dryRun: boolean;
  readonly checkpointFile: string;
  readonly maxPointsPerSecond?: number;
  readonly concurrency: number;
  readonly windowNs: bigint;
  readonly unitPoints?: number;
  readonly io: CommandIO;
}

const replica = (name: string, url: string, concurrency: number): Replica => {
  let client: InfluxQLClient;
  try {
    client = new InfluxQLClient(url, { connections: Math.max(4, concurrency + 2) });
  } catch {
    throw new FlagError(`not a URL: ${url}`);
  }
  return { name: name || client.origin, client };
};

/** The copy windows of a ledger window, resolved against the source: '*' is every database, '' the default rp. */

async function ledgerJobs(flags: Flags, common: Common): Promise<Job[]> {
  const configFile = flagValue(flags, 'config');
  if (configFile === undefined) throw new FlagError('--from-ledger needs -config relay.toml');
  const config = loadConfigOrFail(configFile);
  const file = ledgerFile(config);
  if (file === undefined) throw new FlagError(`${configFile} sets neither ledger-dir nor spool-dir: there is no ledger`);
  const backends = backendsFromConfig(config).map((b) => ({ ...b, replica: replica(b.name, b.url, common.concurrency) }));
  const open = [...(await readLedger(file)).windows.values()].filter((w) => w.repairedAt === undefined);
  const wantDbs = new Set(flagList(flags, 'db'));
  const jobs = new Map<string, Job & { windows: CopyWindow[]; databases: string[]; ids: string[] }>();
  for (const w of open) {
    if (wantDbs.size > 0 && !wantDbs.has(w.db)) continue;
    const target = backends.find((b) => b.names.includes(w.backend));
    const source = backends.find((b) => b !== target);
    if (target === undefined) throw new Error(`ledger window ${w.id}: backend ${w.backend} is not an InfluxDB 1.x output of ${configFile}`);
    if (source === undefined) throw new Error(`ledger window ${w.id}: no other backend to repair ${w.backend} from`);
    let job = jobs.get(target.name);
    if (!job) jobs.set(target.name, (job = { source: source.replica, target: target.replica, windows: [], databases: [], ids: [] }));
    const { dbs, windows } = await ledgerCopyWindows(source.replica.client, w, common.windowNs);
    job.windows.push(...windows);
    for (const db of dbs) if (!job.databases.includes(db)) job.databases.push(db);
    job.ids.push(w.id);
  }
  // Backends without windows are not jobs, but their clients still need closing.
  for (const b of backends) if (![...jobs.values()].some((j) => j.source === b.replica || j.target === b.replica)) await b.replica.client.close();
  return [...jobs.values()];
}

interface DirectionReport {
  source: string;
  target: string;
  statements: string[];
  result: RepairResult;
  ids?: string[];
}

async function runJob(job: Job, flags: Flags, common: Common): Promise<DirectionReport> {
  const { io } = common;
  let windows = job.windows;
  let databases = job.databases;
  if (windows === undefined) {
    const start = flagValue(flags, 'start');
    const end = flagValue(flags, 'end');
    io.stderr.write(`repair: comparing ${job.source.name} -> ${job.target.name}\n`);
    const plan = await planRepair({
      source: job.source,
      target: job.target,
      databases: flagList(flags, 'db'),
      ...(start !== undefined ? { startNs: parseTimeNs(start, 'start') } : {}),
      ...(end !== undefined ? { endNs: parseTimeNs(end, 'end') } : {}),
      windowNs: common.windowNs,
      deep: flags.has('deep'),
      concurrency: common.concurrency,
      ...(common.unitPoints !== undefined ? { unitPoints: common.unitPoints } : {}),
    });
    windows = plan.windows;
    databases = plan.databases;
  }
  const statements = await ensureSchema(job.source.client, job.target.client, databases ?? [], common.dryRun);
  for (const s of statements) io.stderr.write(`repair: ${common.dryRun ? 'would run' : 'ran'} on ${job.target.name}: ${s}\n`);
  const progress = progressPrinter(io, 'repair');
  let result: RepairResult;
  try {
    result = await repairWindows({
      source: job.source,
      target: job.target,
      windows,
      dryRun: common.dryRun,
      checkpointFile: common.checkpointFile,
      // One window at a time: its reads and writes already overlap; more only competes for the same cores.
      concurrency: 1,
      ...(common.maxPointsPerSecond !== undefined ? { maxPointsPerSecond: common.maxPointsPerSecond } : {}),
      onProgress: (p) =>
        progress.update(
          `${p.windowsDone}/${p.windowsTotal} windows, ${p.points} points, ` +
            `${Math.round(p.points / Math.max(0.001, p.elapsedMs / 1000))} points/s` +
            (p.etaMs !== undefined ? `, ETA ${Math.ceil(p.etaMs / 1000)}s` : ''),
        ),
      onWindow: (o) => {
        if (o.short !== undefined)
          io.stderr.write(`repair: ${o.window.db}.${o.window.rp} ${formatNs(o.window.startNs)}: still short on target: ${o.short}\n`);
      },
    });
  } finally {
    progress.done();
  }
  return { source: job.source.name, target: job.target.name, statements, result, ...(job.ids ? { ids: job.ids } : {}) };
}

function summary(r: DirectionReport, dryRun: boolean): string {
  const x = r.result;
  const rate = Math.round(x.points / Math.max(0.001, x.elapsedMs / 1000));
  let out =
    `${r.source} -> ${r.target}: ${x.windows} windows, ${x.copied} ${dryRun ? 'to copy' : 'copied'}, ${x.skipped} skipped (checkpoint), ` +
    `${x.points} points${dryRun ? '' : ` (${rate} points/s)`}, ${x.failed.length} short after writing\n`;
  if (x.extra.length > 0) out += `  ${x.extra.length} windows hold more points on ${r.target} than on ${r.source}: repair --both copies them back\n`;
  if (r.ids && x.failed.length === 0 && !dryRun)
    out += `  repaired ledger windows: ${r.ids.join(' ')} (the relay marks them repaired; this command does not write its ledger)\n`;
  return out;
}

export async function repairCommand(argv: string[], io: CommandIO = process): Promise<number> {
  const clients: InfluxQLClient[] = [];
  try {
    const flags = parseFlags(
      argv,
      new Set(['source', 'target', 'config', 'db', 'start', 'end', 'window', 'unit-points', 'checkpoint', 'max-points-per-second', 'concurrency']),
      new Set(['both', 'from-ledger', 'dry-run', 'deep', 'json', 'help', 'h']),
    );
    if (flags.has('help') || flags.has('h')) {
      io.stdout.write(REPAIR_USAGE);
      return 0;
    }
    const concurrency = Number(flagValue(flags, 'concurrency') ?? '2');
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new FlagError('-concurrency must be a positive integer');
    const rateText = flagValue(flags, 'max-points-per-second');
    const rate = rateText !== undefined ? Number(rateText) : undefined;
    if (rate !== undefined && !(rate > 0)) throw new FlagError('-max-points-per-second must be a positive number');
    const window = flagValue(flags, 'window');
    const unitText = flagValue(flags, 'unit-points');
    const unitPoints = unitText !== undefined ? Number(unitText) : undefined;
    if (unitPoints !== undefined && !(Number.isInteger(unitPoints) && unitPoints > 0)) throw new FlagError('-unit-points must be a positive integer');
    const fromLedger = flags.has('from-ledger');
    let checkpointFile = flagValue(flags, 'checkpoint');
    if (checkpointFile === undefined) {
      const ledger = fromLedger && flagValue(flags, 'config') ? ledgerFile(loadConfigOrFail(flagValue(flags, 'config')!)) : undefined;
      checkpointFile = ledger ? path.join(path.dirname(ledger), 'repair.checkpoint') : path.resolve('influx-relay-repair.checkpoint');
    }
    const common: Common = {
      dryRun: flags.has('dry-run'),
      checkpointFile,
      ...(rate !== undefined ? { maxPointsPerSecond: rate } : {}),
      concurrency,
      windowNs: window !== undefined ? parseDurationNs(window, 'window') : DEFAULT_WINDOW_NS,
      ...(unitPoints !== undefined ? { unitPoints } : {}),
      io,
    };

    let jobs: Job[];
    if (fromLedger) {
      jobs = await ledgerJobs(flags, common);
      if (jobs.length === 0) io.stderr.write('repair: the ledger holds no unrepaired window\n');
    } else {
      const sourceUrl = flagValue(flags, 'source');
      const targetUrl = flagValue(flags, 'target');
      if (sourceUrl === undefined || targetUrl === undefined) throw new FlagError('--source URL and --target URL are required (or --from-ledger)');
      const a = replica('', sourceUrl, concurrency);
      const b = replica('', targetUrl, concurrency);
      jobs = [{ source: a, target: b }, ...(flags.has('both') ? [{ source: b, target: a }] : [])];
    }
    for (const j of jobs) clients.push(j.source.client, j.target.client);

    const reports: DirectionReport[] = [];
    for (const job of jobs) reports.push(await runJob(job, flags, common));
    const failed = reports.some((r) => r.result.failed.length > 0);
    if (flags.has('json')) {
      io.stdout.write(
        JSON.stringify(
          {
            dryRun: common.dryRun,
            checkpoint: common.checkpointFile,
            directions: reports.map((r) => ({
              source: r.source,
              target: r.target,
              statements: r.statements,
              windows: r.result.windows,
              copied: r.result.copied,
              skipped: r.result.skipped,
              points: r.result.points,
              elapsedMs: r.result.elapsedMs,
              failed: r.result.failed.length,
              extra: r.result.extra.length,
              ...(r.ids ? { repairedIds: failed || common.dryRun ? [] : r.ids } : {}),
            })),
          },
          null,
          2,
        ) + '\n',
      );
    } else {
      for (const r of reports) io.stdout.write(summary(r, common.dryRun));
    }
    return failed ? 1 : 0;
  } catch (err) {
    const usage = err instanceof FlagError ? `\n${REPAIR_USAGE}` : '';
    io.stderr.write(`influx-relay repair: ${err instanceof Error ? err.message : String(err)}${usage}\n`);
    return 2;
  } finally {
    await Promise.all([...new Set(clients)].map((c) => c.close()));
  }
}
