// Builds relay.toml text in the Go influxdb-relay format for tests:
//   [[http]] name, bind-addr, output = [ { name, location, ...extra }, ... ]

export type TomlValue = string | number | boolean | TomlValue[];

export interface RelayOutput {
  name: string;
  location: string;
  /** Extra per-output keys, e.g. { 'buffer-size-mb': 64, timeout: '10s' }. */
  [key: string]: TomlValue;
}

export interface RelayTomlOptions {
  bindAddr: string;
  /** [[http]] name; default "test-http". */
  name?: string;
  outputs: RelayOutput[];
  /** Raw TOML lines placed inside the [[http]] table, before `output` (keys only, no headers). */
  extraHttp?: string;
  /** Raw TOML appended after the [[http]] table (e.g. [[udp]] sections). */
  extra?: string;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

function key(k: string): string {
  return BARE_KEY.test(k) ? k : JSON.stringify(k);
}

/** TOML basic strings accept JSON's escapes, so JSON.stringify is a safe quoter. */
export function tomlValue(v: TomlValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`relayToml: non-finite number ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  return '[' + v.map(tomlValue).join(', ') + ']';
}

export function relayToml(o: RelayTomlOptions): string {
  const outputs = o.outputs.map((out) => {
    const pairs = Object.entries(out).map(([k, v]) => `${key(k)} = ${tomlValue(v)}`);
    return `  { ${pairs.join(', ')} },`;
  });
  return [
    '[[http]]',
    `name = ${tomlValue(o.name ?? 'test-http')}`,
    `bind-addr = ${tomlValue(o.bindAddr)}`,
    ...(o.extraHttp ? [o.extraHttp.trim()] : []),
    'output = [',
    ...outputs,
    ']',
    ...(o.extra ? ['', o.extra.trim()] : []),
    '',
  ].join('\n');
}
