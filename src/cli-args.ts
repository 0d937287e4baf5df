/**
 * Command-line flags, Go `flag` style as influxdb-relay takes them (`-config relay.toml`), with GNU spellings accepted
 * too (`--config relay.toml`, `--config=relay.toml`).
 */
export interface MainArgs {
  readonly command: 'run' | 'check' | 'version' | 'help' | 'haproxy' | 'missed' | 'verify' | 'repair' | 'status';
  readonly config?: string;
  readonly logLevel?: string;
  /** Everything after a subcommand, for it to parse. */
  readonly rest: readonly string[];
}

export class UsageError extends Error {}

const VALUE_FLAGS = new Set(['config', 'log-level']);
const BOOL_FLAGS = new Set(['check', 'version', 'help', 'h']);

/** Environment fallbacks (for containers): flags win over them. */
export interface ArgsEnv {
  readonly INFLUX_RELAY_CONFIG?: string;
  readonly INFLUX_RELAY_LOG_LEVEL?: string;
}

export function parseArgs(argv: readonly string[], env: ArgsEnv = {}): MainArgs {
  const sub = argv[0];
  if (sub === 'haproxy' || sub === 'missed' || sub === 'verify' || sub === 'repair' || sub === 'status') return { command: sub, rest: argv.slice(1) };
  const values: Record<string, string> = {};
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) throw new UsageError(`unexpected argument: ${arg}`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (VALUE_FLAGS.has(name)) {
      const value = eq < 0 ? argv[++i] : body.slice(eq + 1);
      if (value === undefined || value === '') throw new UsageError(`flag -${name} needs a value`);
      values[name] = value;
    } else if (BOOL_FLAGS.has(name)) {
      if (eq >= 0 && body.slice(eq + 1) === 'false') continue;
      bools.add(name);
    } else {
      throw new UsageError(`unknown flag: ${arg}`);
    }
  }
  const config = values['config'] ?? (env.INFLUX_RELAY_CONFIG || undefined);
  const logLevel = values['log-level'] ?? (env.INFLUX_RELAY_LOG_LEVEL || undefined);
  const common = {
    ...(config !== undefined ? { config } : {}),
    ...(logLevel !== undefined ? { logLevel } : {}),
    rest: [],
  };
  if (bools.has('help') || bools.has('h')) return { command: 'help', ...common };
  if (bools.has('version')) return { command: 'version', ...common };
  if (!common.config) throw new UsageError('missing -config FILE (or INFLUX_RELAY_CONFIG)');
  return { command: bools.has('check') ? 'check' : 'run', ...common };
}

export const USAGE = `Usage:
  influx-relay -config relay.toml [-log-level info]   run the relay
  influx-relay -check -config relay.toml              validate the config and exit
  influx-relay haproxy -cluster cluster.toml [-out F]  generate an HAProxy config
  influx-relay missed -config relay.toml [--json]     print the missed-window ledger
  influx-relay verify --backend URL --backend URL     compare replicas (or -config relay.toml); --help for more
  influx-relay repair --source URL --target URL       copy what a replica lacks (or --from-ledger -config F)
  influx-relay status -cluster cluster.toml [--serve :PORT]  the cluster view (table, or a live page)
  influx-relay -version
Flags may also be written --config FILE or --config=FILE.
Environment: INFLUX_RELAY_CONFIG and INFLUX_RELAY_LOG_LEVEL stand in for -config and -log-level.`;

/** Where a subcommand writes (process, or a test's capture). */
export interface CommandIO {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

type SubcommandFlags<V extends string, B extends string> = { [K in V]?: string } & { [K in B | 'help']?: boolean };

/**
 * A subcommand's flags (`haproxy`, `missed`): `-name FILE`, `--name=FILE`, boolean `--name`, and `-h`/`--help`.
 * What is wrong comes back as a string, for the subcommand to print above its usage.
 */
export function parseSubcommandFlags<V extends string, B extends string = never>(
  argv: readonly string[],
  valueFlags: readonly V[],
  boolFlags: readonly B[] = [],
): SubcommandFlags<V, B> | string {
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const m = /^--?([a-z]+)(?:=(.*))?$/.exec(arg);
    if (!m) return `unexpected argument ${JSON.stringify(arg)}`;
    const name = m[1] ?? '';
    if (name === 'h' || name === 'help') flags['help'] = true;
    else if ((boolFlags as readonly string[]).includes(name)) flags[name] = true;
    else if ((valueFlags as readonly string[]).includes(name)) {
      const value = m[2] ?? argv[++i];
      if (value === undefined || value === '') return `-${name} needs a file name`;
      flags[name] = value;
    } else return `unknown flag -${name}`;
  }
  return flags as SubcommandFlags<V, B>;
}
