// Two InfluxDB that must hold the same points: one fed by its own [[opentsdb]]/[[graphite]] services, one through
// the relay. Helpers shared by the differential and the real-Netdata tests.
import net from 'node:net';
import dgram from 'node:dgram';
import { post } from '../helpers/http.js';
import type { Influxd } from '../helpers/influxd.js';
import { eventually } from '../helpers/eventually.js';

export interface Series {
  name: string;
  tags: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/**
 * Every point of a database, series sorted by name and tags (epoch=ns, `GROUP BY *`). `GROUP BY *` lists every tag
 * key of the database on every series, '' where a series has none: those are left out, so that one odd key on one
 * server does not make every series differ.
 */
export async function allSeries(s: Influxd, db: string): Promise<Series[]> {
  const res = await s.query('SELECT * FROM /.*/ GROUP BY *', { db, epoch: 'ns' });
  const series = (res.results?.[0]?.series ?? []) as Series[];
  const key = (x: Series) => JSON.stringify([x.name, Object.entries(x.tags ?? {}).sort()]);
  const own = (tags: Record<string, string> = {}) => Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== ''));
  return series.map((x) => ({ ...x, tags: own(x.tags) })).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Waits until a measurement holds a point on the server (the sentinel sent last on a stream). */
export async function waitFor(s: Influxd, db: string, measurement: string, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => {
    const res = await s.query(`SELECT count(*) FROM "${measurement}"`, { db }).catch(() => undefined);
    if (!res?.results?.[0]?.series) throw new Error(`${measurement} not yet in ${db} on ${s.url}`);
  }, timeoutMs, 100);
}

/** Writes a stream on a new TCP connection and closes it once written. */
export function sendTcp(port: number, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(data));
    s.resume(); // influxd answers `version`: read it, or 'close' never comes
    s.once('error', reject);
    s.once('close', () => resolve());
  });
}

/** Sends lines as datagrams of at most ~1 KB of whole lines. */
export async function sendUdp(port: number, lines: string[]): Promise<void> {
  const sock = dgram.createSocket('udp4');
  const datagrams: string[] = [];
  let cur = '';
  for (const l of lines) {
    if (cur.length + l.length > 1024 && cur !== '') {
      datagrams.push(cur);
      cur = '';
    }
    cur += l;
  }
  if (cur !== '') datagrams.push(cur);
  for (const d of datagrams) {
    await new Promise<void>((resolve, reject) => sock.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    await new Promise((r) => setImmediate(r));
  }
  sock.close();
}

/** POST /api/put on an OpenTSDB port; status and body. */
export async function apiPut(port: number, body: string, gzip = false): Promise<{ status: number; body: string }> {
  const res = await post(`http://127.0.0.1:${port}/api/put`, body, { headers: { 'content-type': 'application/json' }, gzip });
  return { status: res.status, body: res.body };
}
