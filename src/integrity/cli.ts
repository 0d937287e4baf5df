/**
 * `influx-relay missed -config relay.toml [--json] [--all]`: prints a relay's missed-window ledger, read-only
 * (safe while the relay runs). Exit codes: 0 printed (whether or not windows exist), 1 unreadable ledger,
 * 2 usage or config error.
 */
import { ConfigError } from '../config/errors.js';
import { loadConfigFile } from '../config/load.js';
import { parseSubcommandFlags, type CommandIO } from '../cli-args.js';
import { readLedger, type BacklogNote, type MissedWindow } from './ledger-file.js';
import { ledgerFile } from './ledger.js';
import { formatNs } from './time-range.js';

const MISSED_USAGE = `usage: influx-relay missed -config relay.toml [--json] [--all]
       influx-relay missed -ledger FILE [--json] [--all]

Prints the missed-window ledger: per backend, the time ranges and databases of points the relay gave up
on for it (queue full, dead letter, shutdown, a crash in memory mode, ...). See docs/operations.md.

  -config FILE   relay config; the ledger is in its ledger-dir, else its spool-dir
  -ledger FILE   read this ledger file instead
  --json         one JSON document: {file, clean, windows, backlog}
  --all          include repaired windows
`;

const rpName = (rp: string): string => (rp === '' ? '(default)' : rp);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ') + '\n';
  return line(header) + rows.map(line).join('');
}

function windowsTable(windows: readonly MissedWindow[], all: boolean): string {
  const header = ['BACKEND', 'DB', 'RP', 'FROM', 'TO', 'POINTS', 'REASON', 'LAST DROP', 'ID', ...(all ? ['REPAIRED'] : [])];
  const rows = windows.map((w) => [
    w.backend,
    w.db,
    rpName(w.rp),
    formatNs(BigInt(w.fromNs)),
    formatNs(BigInt(w.toNs)),
    String(w.points),
    w.reason,
    w.lastAt,
    w.id,
    ...(all ? [w.repairedAt ?? '-'] : []),
  ]);
  return table(header, rows);
}

function backlogTable(notes: readonly BacklogNote[]): string {
  const rows = notes.flatMap((n) =>
    n.ranges.map((r) => [n.backend, r.db, rpName(r.rp), formatNs(BigInt(r.fromNs)), formatNs(BigInt(r.toNs)), String(r.points), n.at]),
  );
  return table(['BACKEND', 'DB', 'RP', 'FROM', 'TO', 'POINTS', 'NOTED'], rows);
}

export async function missedCommand(argv: string[], io: CommandIO = process): Promise<number> {
  const flags = parseSubcommandFlags(argv, ['config', 'ledger'], ['json', 'all']);
  if (typeof flags === 'string') {
    io.stderr.write(`influx-relay missed: ${flags}\n${MISSED_USAGE}`);
    return 2;
  }
  if (flags.help) {
    io.stdout.write(MISSED_USAGE);
    return 0;
  }
  let file = flags.ledger;
  if (file === undefined) {
    if (flags.config === undefined) {
      io.stderr.write(`influx-relay missed: -config FILE (or -ledger FILE) is required\n${MISSED_USAGE}`);
      return 2;
    }
    try {
      file = ledgerFile(loadConfigFile(flags.config));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.stderr.write(`influx-relay missed: invalid config:\n${err.message}\n`);
      return 2;
    }
    if (file === undefined) {
      io.stderr.write(`influx-relay missed: ${flags.config} sets neither ledger-dir nor spool-dir: there is no ledger\n`);
      return 2;
    }
  }

  let contents;
  try {
    contents = await readLedger(file);
  } catch (err) {
    io.stderr.write(`influx-relay missed: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const windows = [...contents.windows.values()]
    .filter((w) => flags.all || w.repairedAt === undefined)
    .sort((a, b) => (a.backend < b.backend ? -1 : a.backend > b.backend ? 1 : a.firstAt < b.firstAt ? -1 : a.firstAt > b.firstAt ? 1 : 0));
  // A backlog matters only when no clean close followed it: held by a running relay, or lost by a crash.
  const backlog = contents.clean ? [] : [...contents.backlogs.values()].filter((n) => n.ranges.length > 0);

  if (flags.json) {
    io.stdout.write(JSON.stringify({ file, clean: contents.clean, windows, backlog }, null, 2) + '\n');
    return 0;
  }
  io.stdout.write(`ledger: ${file}\n`);
  if (contents.skipped > 0) io.stdout.write(`(${contents.skipped} unreadable lines skipped)\n`);
  io.stdout.write(windows.length === 0 ? `no ${flags.all ? '' : 'unrepaired '}missed windows\n` : windowsTable(windows, flags.all ?? false));
  if (backlog.length > 0) {
    io.stdout.write(
      '\nmemory backlog last noted (held by the running relay; if it stopped uncleanly, these become ' +
        "'unclean-stop' windows at its next start):\n" +
        backlogTable(backlog),
    );
  }
  return 0;
}
