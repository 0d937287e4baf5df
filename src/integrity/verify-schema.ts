/**
 * What a replica holds, asked with SHOW statements: databases, retention policies, measurements, field types, and
 * the time range of a measurement's points. Shared by verify and repair.
 */
import { InfluxQLClient, qualified, quoteIdent } from './influxql-client.js';

export interface RetentionPolicy {
  readonly name: string;
  /** Go duration strings as SHOW RETENTION POLICIES answers them ("0s" is infinite). */
  readonly duration: string;
  readonly shardGroupDuration: string;
  readonly replicaN: number;
  readonly isDefault: boolean;
}

/** `_internal` is each server's own monitoring database: never compared, never copied. */
export const SKIPPED_DATABASES: ReadonlySet<string> = new Set(['_internal']);

export async function listDatabases(client: InfluxQLClient): Promise<string[]> {
  const series = await client.query('SHOW DATABASES');
  return (series[0]?.values ?? []).map((row) => String(row[0])).filter((db) => !SKIPPED_DATABASES.has(db));
}

export async function listRetentionPolicies(client: InfluxQLClient, db: string): Promise<RetentionPolicy[]> {
  const series = await client.query(`SHOW RETENTION POLICIES ON ${quoteIdent(db)}`);
  const s = series[0];
  if (s === undefined) return [];
  const col = (name: string) => s.columns.indexOf(name);
  const [iName, iDur, iShard, iRep, iDef] = ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'].map(col);
  return s.values.map((row) => ({
    name: String(row[iName!]),
    duration: String(row[iDur!]),
    shardGroupDuration: String(row[iShard!]),
    replicaN: Number(row[iRep!]),
    isDefault: row[iDef!] === true,
  }));
}

export async function listMeasurements(client: InfluxQLClient, db: string): Promise<string[]> {
  // Measurements are per database in 1.x (not per rp): an rp holds a subset. Empty ones are skipped by counts.
  const names: string[] = [];
  for await (const s of client.select('SHOW MEASUREMENTS', db)) for (const row of s.values) names.push(String(row[0]));
  return names;
}

/** Field name → InfluxDB types ("float", "integer", "string", "boolean"; two when shards disagree). */
export async function fieldTypes(client: InfluxQLClient, db: string, rp: string, measurement: string): Promise<Map<string, string[]>> {
  const series = await client.query(`SHOW FIELD KEYS FROM ${qualified(rp, measurement)}`, db);
  const types = new Map<string, string[]>();
  for (const s of series) {
    for (const row of s.values) {
      const key = String(row[0]);
      const list = types.get(key) ?? [];
      list.push(String(row[1]));
      types.set(key, list);
    }
  }
  return types;
}

const toBig = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(Number(v)));

/** Timestamps of the oldest and newest point of a measurement in an rp; undefined when it holds none. */
export async function timeBounds(
  client: InfluxQLClient,
  db: string,
  rp: string,
  measurement: string,
): Promise<{ firstNs: bigint; lastNs: bigint } | undefined> {
  const from = qualified(rp, measurement);
  // One point from each end: cheap, unlike first()/last() of every field.
  const [first] = await client.query(`SELECT * FROM ${from} ORDER BY time ASC LIMIT 1`, db);
  const [last] = await client.query(`SELECT * FROM ${from} ORDER BY time DESC LIMIT 1`, db);
  const a = first?.values[0]?.[0];
  const b = last?.values[0]?.[0];
  if (a === undefined || b === undefined) return undefined;
  return { firstNs: toBig(a), lastNs: toBig(b) };
}
