/**
 * Seeded, Telegraf-like line protocol bodies for the benchmarks.
 *
 * Each line: one of six measurements (cpu, mem, disk, diskio, net, system) with 3–6 tags in sorted key order and
 * 5–10 fields mixing floats, integers (`i`), one string and one bool, and a 19-digit nanosecond timestamp.
 * Series vary over 256 hosts and per-measurement tag values. The same seed gives the same bytes.
 *
 * Every timestamp is exactly 19 digits and its byte offset is kept, so `restamp()` can give a body fresh, unique
 * timestamps in place (the end-to-end benchmark needs every point distinct, or InfluxDB would merge them).
 */

/** 2023-11-14T22:13:20Z in ns: far from the 19-digit limits, so any offset below 1e12 keeps the width. */
export const BASE_TIME_NS = 1_700_000_000_000_000_000n;
const TS_HIGH = '1700000'; // the 7 leading digits of BASE_TIME_NS; the low 12 digits carry the offset
const TS_LOW_DIGITS = 12;
export const MAX_TS_OFFSET = 1e12;
/** Default spacing of consecutive timestamps: 1 µs. */
export const STEP_NS = 1000;

export interface GeneratedBody {
  readonly body: Buffer;
  readonly lines: number;
  /** Byte offset of each line's 19-digit timestamp in `body`. */
  readonly tsOffsets: Uint32Array;
}

/** mulberry32: small, fast, good enough to vary benchmark data reproducibly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const int = (r: Rand, max: number): number => Math.floor(r() * max);
const float = (r: Rand, max: number): string => (r() * max).toFixed(int(r, 4) + 1);

const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-south-1'] as const;
const DCS = ['dc1', 'dc2', 'dc3'] as const;
const ENVS = ['prod', 'staging'] as const;
const host = (r: Rand): string => `srv-${String(int(r, 256)).padStart(4, '0')}`;

/** One line without its timestamp: `measurement,tags fields`. Tag keys are in sorted order, as Telegraf sends them. */
const MEASUREMENTS: ReadonlyArray<(r: Rand) => string> = [
  (r) =>
    `cpu,cpu=cpu${int(r, 8)},dc=${pick(r, DCS)},env=${pick(r, ENVS)},host=${host(r)},region=${pick(r, REGIONS)} ` +
    `usage_user=${float(r, 100)},usage_system=${float(r, 30)},usage_idle=${float(r, 100)},usage_iowait=${float(r, 5)},` +
    `usage_steal=${float(r, 1)},guest=${int(r, 3)}i,online=true,governor="${pick(r, ['performance', 'powersave', 'schedutil'])}"`,
  (r) =>
    `mem,dc=${pick(r, DCS)},host=${host(r)},region=${pick(r, REGIONS)} ` +
    `total=${34359738368}i,available=${int(r, 34359738368)}i,used=${int(r, 34359738368)}i,used_percent=${float(r, 100)},` +
    `cached=${int(r, 8589934592)}i,swap_enabled=${r() < 0.5},state="${pick(r, ['ok', 'pressure'])}"`,
  (r) =>
    `disk,device=${pick(r, ['nvme0n1p1', 'nvme1n1p1', 'sda1', 'sdb1'])},fstype=${pick(r, ['ext4', 'xfs'])},` +
    `host=${host(r)},mode=rw,path=${pick(r, ['/', '/var', '/data', '/srv/influx'])},region=${pick(r, REGIONS)} ` +
    `total=${1000204886016}i,free=${int(r, 1000204886016)}i,used=${int(r, 1000204886016)}i,used_percent=${float(r, 100)},` +
    `inodes_free=${int(r, 61054976)}i,inodes_used=${int(r, 1000000)}i,readonly=false,label="${pick(r, ['root', 'data', 'logs'])}"`,
  (r) =>
    `diskio,host=${host(r)},name=${pick(r, ['nvme0n1', 'nvme1n1', 'sda', 'sdb'])},region=${pick(r, REGIONS)} ` +
    `reads=${int(r, 1e9)}i,writes=${int(r, 1e9)}i,read_bytes=${int(r, 1e12)}i,write_bytes=${int(r, 1e12)}i,` +
    `io_time=${int(r, 1e8)}i,iops_in_progress=${int(r, 64)}i,util=${float(r, 100)},merged=${r() < 0.2},serial="S4${int(r, 99999)}"`,
  (r) =>
    `net,dc=${pick(r, DCS)},host=${host(r)},interface=${pick(r, ['eth0', 'eth1', 'bond0', 'lo'])},region=${pick(r, REGIONS)} ` +
    `bytes_sent=${int(r, 1e12)}i,bytes_recv=${int(r, 1e12)}i,packets_sent=${int(r, 1e10)}i,packets_recv=${int(r, 1e10)}i,` +
    `err_in=${int(r, 10)}i,drop_in=${int(r, 100)}i,util=${float(r, 100)},up=true,speed="${pick(r, ['1G', '10G', '25G'])}"`,
  (r) =>
    `system,dc=${pick(r, DCS)},env=${pick(r, ENVS)},host=${host(r)},region=${pick(r, REGIONS)} ` +
    `load1=${float(r, 8)},load5=${float(r, 8)},load15=${float(r, 8)},n_cpus=8i,n_users=${int(r, 20)}i,` +
    `uptime=${int(r, 1e7)}i,uptime_format="${int(r, 100)} days, ${int(r, 24)}:${String(int(r, 60)).padStart(2, '0')}",ok=true`,
];

/** Names of the measurements a body can contain (for counting what landed in InfluxDB). */
export const MEASUREMENT_NAMES = ['cpu', 'mem', 'disk', 'diskio', 'net', 'system'] as const;

/**
 * A body of `lines` newline-terminated lines; line i is stamped BASE_TIME_NS + i * stepNs (distinct within the body).
 */
export function generateBody(lines: number, seed: number, stepNs = STEP_NS): GeneratedBody {
  if (lines * stepNs >= MAX_TS_OFFSET) throw new Error(`generateBody: ${lines} lines × ${stepNs} ns overflow the timestamp width`);
  const r = rng(seed);
  const parts: string[] = [];
  const tsOffsets = new Uint32Array(lines);
  let bytes = 0;
  for (let i = 0; i < lines; i++) {
    const head = (MEASUREMENTS[int(r, MEASUREMENTS.length)] as (r: Rand) => string)(r) + ' ';
    bytes += Buffer.byteLength(head);
    tsOffsets[i] = bytes;
    const line = head + TS_HIGH + String(i * stepNs).padStart(TS_LOW_DIGITS, '0') + '\n';
    bytes += 19 + 1;
    parts.push(line);
  }
  return { body: Buffer.from(parts.join('')), lines, tsOffsets };
}

/**
 * Rewrites every timestamp in place: line i becomes BASE_TIME_NS + firstOffsetNs + i * stepNs.
 * Only the 12 low digits change; the offsets must stay below MAX_TS_OFFSET.
 */
export function restamp(g: GeneratedBody, firstOffsetNs: number, stepNs = STEP_NS): void {
  const last = firstOffsetNs + (g.lines - 1) * stepNs;
  if (firstOffsetNs < 0 || last >= MAX_TS_OFFSET) throw new Error(`restamp: offset ${last} out of range`);
  const buf = g.body;
  for (let i = 0; i < g.lines; i++) {
    let v = firstOffsetNs + i * stepNs;
    let pos = (g.tsOffsets[i] as number) + 19 - 1;
    for (let d = 0; d < TS_LOW_DIGITS; d++) {
      buf[pos--] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
  }
}
