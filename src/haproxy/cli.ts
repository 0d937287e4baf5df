/**
 * `influx-relay haproxy -cluster FILE [-out FILE]`: render haproxy.cfg from a cluster file.
 * Go-style single-dash flags like the rest of influx-relay (double dashes and -flag=value work too).
 * The output file is replaced atomically, so a running HAProxy reload never reads half a file.
 */
import { rename, writeFile } from 'node:fs/promises';
import { parseSubcommandFlags, type CommandIO } from '../cli-args.js';
import { buildConfig } from './build.js';
import { ClusterError, loadCluster } from './load.js';
import { renderConfig } from './render.js';

export const HAPROXY_USAGE = `usage: influx-relay haproxy -cluster FILE [-out FILE]

Renders an haproxy.cfg that balances writes across the relays and reads across the
InfluxDB servers described in the cluster file (see docs/cluster.md).

  -cluster FILE   cluster description (TOML), required
  -out FILE       where to write haproxy.cfg (default: standard output)
`;

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o640 });
  await rename(tmp, file);
}

export async function haproxyCommand(argv: string[], io: CommandIO = process): Promise<number> {
  const flags = parseSubcommandFlags(argv, ['cluster', 'out']);
  if (typeof flags === 'string') {
    io.stderr.write(`influx-relay haproxy: ${flags}\n${HAPROXY_USAGE}`);
    return 1;
  }
  if (flags.help) {
    io.stdout.write(HAPROXY_USAGE);
    return 0;
  }
  if (flags.cluster === undefined) {
    io.stderr.write(`influx-relay haproxy: -cluster FILE is required\n${HAPROXY_USAGE}`);
    return 1;
  }
  try {
    const cluster = await loadCluster(flags.cluster);
    const text = renderConfig(buildConfig(cluster), { source: flags.cluster });
    if (flags.out === undefined) {
      io.stdout.write(text);
    } else {
      await writeAtomically(flags.out, text);
      io.stderr.write(`influx-relay haproxy: wrote ${flags.out} (${cluster.relays.length} relays, ${cluster.databases.length} databases)\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof ClusterError) {
      io.stderr.write(`${err.message}\n`);
      return 1;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`influx-relay haproxy: ${message}\n`);
    return 1;
  }
}
