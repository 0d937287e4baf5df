/**
 * The replicas a relay writes to, as verify, repair and anti-entropy see them: InfluxDB 1.x outputs, one per
 * distinct origin, with a query URL (credentials included); and a ledger window as the copy windows it stands for.
 */
import type { HttpOutputConfig, RelayConfig } from '../config/types.js';
import type { InfluxQLClient } from './influxql-client.js';
import type { MissedWindow } from './ledger-file.js';
import { splitWindows, type CopyWindow } from './repair.js';
import { listDatabases, listRetentionPolicies } from './verify-schema.js';

export function outputUrl(o: HttpOutputConfig): string {
  const u = new URL(o.location);
  if (o.httpUser !== undefined) {
    u.username = encodeURIComponent(o.httpUser);
    u.password = encodeURIComponent(o.httpPass ?? '');
  }
  return `${u.protocol}//${u.username ? `${u.username}:${u.password}@` : ''}${u.host}`;
}

/**
 * The InfluxDB 1.x backends of a relay config: name and query URL, one per distinct origin; `names` are all the
 * output names that reach it (the ledger keys windows by output name).
 */
export function backendsFromConfig(config: RelayConfig): Array<{ name: string; url: string; names: string[] }> {
  const outputs: HttpOutputConfig[] = [
    ...config.http.flatMap((l) => l.output),
    ...config.tcp.flatMap((l) => l.output),
    ...config.udp.flatMap((l) => l.output.filter((o): o is HttpOutputConfig => o.kind === 'http')),
  ].filter((o) => o.type === 'v1');
  const seen = new Map<string, { name: string; url: string; names: string[] }>();
  for (const o of outputs) {
    const origin = new URL(o.location).origin;
    const entry = seen.get(origin);
    if (entry === undefined) seen.set(origin, { name: o.name, url: outputUrl(o), names: [o.name] });
    else if (!entry.names.includes(o.name)) entry.names.push(o.name);
  }
  return [...seen.values()];
}

/** A ledger window as copy windows on the source: `db = '*'` is every database and rp; `rp = ''` the default rp. */
export async function ledgerCopyWindows(source: InfluxQLClient, w: MissedWindow, windowNs: bigint): Promise<{ dbs: string[]; windows: CopyWindow[] }> {
  const dbs = w.db === '*' ? await listDatabases(source) : [w.db];
  const windows: CopyWindow[] = [];
  for (const db of dbs) {
    const rps = await listRetentionPolicies(source, db);
    const chosen = w.db === '*' ? rps : w.rp === '' ? rps.filter((rp) => rp.isDefault) : rps.filter((rp) => rp.name === w.rp);
    for (const rp of chosen) windows.push({ db, rp: rp.name, startNs: BigInt(w.fromNs), endNs: BigInt(w.toNs) + 1n });
  }
  return { dbs, windows: splitWindows(windows, windowNs) };
}
