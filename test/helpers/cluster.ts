/**
 * Two real influxd and one built relay in front of them: the fixture most relay tests share.
 */
import { startInfluxd, type Influxd, type StartInfluxdOptions } from './influxd.js';
import { freePort } from './ports.js';
import { relayToml, startRelay, type Relay, type RelayOutput } from './relay.js';
import { tomlValue, type TomlValue } from './relay-toml.js';

export interface Cluster {
  readonly a: Influxd;
  readonly b: Influxd;
  readonly relay: Relay;
  readonly backends: readonly Influxd[];
  destroy(): Promise<void>;
}

export interface ClusterOptions {
  influxd?: StartInfluxdOptions;
  /** Extra keys for every output (e.g. buffer-size-mb). */
  output?: Omit<RelayOutput, 'name' | 'location'>;
  extraHttp?: string;
  /** Raw TOML after the [[http]] table; `${A}`/`${B}` are replaced by the backends' write URLs. */
  extra?: string;
  databases?: string[];
  /** Top-level relay.toml keys (e.g. when-full), placed before the [[http]] table. */
  top?: Record<string, TomlValue>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const [a, b] = await Promise.all([startInfluxd(opts.influxd), startInfluxd(opts.influxd)]);
  try {
    for (const db of opts.databases ?? ['test']) await Promise.all([a.createDatabase(db), b.createDatabase(db)]);
    const port = await freePort();
    const top = Object.entries(opts.top ?? {}).map(([k, v]) => `${k} = ${tomlValue(v)}\n`).join('');
    const toml = top + relayToml({
      bindAddr: `127.0.0.1:${port}`,
      outputs: [
        { name: 'influxdb-a', location: `${a.url}/write`, ...opts.output },
        { name: 'influxdb-b', location: `${b.url}/write`, ...opts.output },
      ],
      ...(opts.extraHttp ? { extraHttp: opts.extraHttp } : {}),
      ...(opts.extra ? { extra: opts.extra.replaceAll('${A}', `${a.url}/write`).replaceAll('${B}', `${b.url}/write`) } : {}),
    });
    const relay = await startRelay({ toml });
    return {
      a,
      b,
      relay,
      backends: [a, b],
      async destroy() {
        await relay.destroy();
        await Promise.all([a.destroy(), b.destroy()]);
      },
    };
  } catch (err) {
    await Promise.all([a.destroy(), b.destroy()]);
    throw err;
  }
}

