// What Netdata 1.37 sends (captured from a running agent) and many more points like it, plus the edge cases a
// converter must get exactly right. Shared by the differential test and the real-Netdata test.
const CHARTS: Record<string, string[]> = {
  'system.cpu': ['guest_nice', 'guest', 'steal', 'softirq', 'irq', 'user', 'system', 'nice', 'iowait'],
  'system.load': ['load1', 'load5', 'load15'],
  'system.idlejitter': ['min', 'max', 'average'],
  'disk_space._': ['avail', 'used', 'reserved_for_root'],
  'net.eth0': ['received', 'sent'],
  'mem.available': ['MemAvailable'],
  'apps.cpu': ['netdata', 'sshd', 'influxd', 'haproxy'],
};

const NETDATA_TAGS = ['_is_ephemeral=false', '_has_unstable_connection=false'];

export interface NetdataSample {
  /** metric without the `netdata.` prefix, e.g. `system.cpu.user` */
  readonly metric: string;
  readonly ts: number;
  readonly value: string;
}

/** `rounds` intervals of every dimension, one second apart, from `start` (epoch seconds). */
export function netdataSamples(start: number, rounds: number): NetdataSample[] {
  const out: NetdataSample[] = [];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let r = 0; r < rounds; r++) {
    for (const [chart, dims] of Object.entries(CHARTS)) {
      for (const d of dims) out.push({ metric: `${chart}.${d}`, ts: start + r, value: (rand() * 10 ** Math.floor(rand() * 9)).toFixed(7) });
    }
  }
  return out;
}

export const telnet = (s: NetdataSample, host = 'vm') => `put netdata.${s.metric} ${s.ts} ${s.value} host=${host} ${NETDATA_TAGS.join(' ')}\n`;
export const graphiteLine = (s: NetdataSample, host = 'vm') => `netdata.${host}.${s.metric};${NETDATA_TAGS.join(';')} ${s.value} ${s.ts}\n`;
export const jsonPoint = (s: NetdataSample, host = 'vm') => ({
  metric: `netdata.${s.metric}`,
  timestamp: s.ts,
  value: Number(s.value),
  tags: { host, _is_ephemeral: 'false', _has_unstable_connection: 'false' },
});

/** Telnet edge cases (each a whole line). T is a fixed 10-digit timestamp. */
export function telnetEdges(T: number): string[] {
  return [
    `put netdata.system.idlejitter.min ${T} 75.0000000 host=vm _is_ephemeral=false _has_unstable_connection=false`,
    `put edge.ms ${T}123 1.5 host=vm`,
    `put edge.ms2 ${T}999 2 host=vm`,
    `put edge.len11 ${T}1 1 host=vm`,
    `put edge.len9 ${String(T).slice(1)} 1 host=vm`,
    `put edge.badts ${String(T).slice(0, 9)}x 1 host=vm`,
    `put edge.negts -${String(T).slice(1)} 1 host=vm`,
    `put edge.maxts 9999999999 1 host=vm`,
    `put edge.nan ${T} NaN host=vm`,
    `put edge.inf ${T} +Inf host=vm`,
    `put edge.inf2 ${T} -infinity host=vm`,
    `put edge.huge ${T} 1.7976931348623157e308 host=vm`,
    `put edge.toohuge ${T} 1e309 host=vm`,
    `put edge.tiny ${T} 4.9e-324 host=vm`,
    `put edge.negzero ${T} -0 host=vm`,
    `put edge.hex ${T} 0x1p-2 host=vm`,
    `put edge.underscore ${T} 1_000 host=vm`,
    `put edge.dot ${T} .5 host=vm`,
    `put edge.dot2 ${T} 5. host=vm`,
    `put edge.exp ${T} 1E5 host=vm`,
    `put edge.word ${T} abc host=vm`,
    `put edge.notags ${T} 3`,
    `put edge.badtags ${T} 3 novalue =x k= a=b=c dup=1 dup=2`,
    `put edge,comma ${T} 1 host=vm`,
    `put edge=eq ${T} 1 host=vm`,
    `put edge\\back ${T} 1 host=vm`,
    `put edge\\,escaped ${T} 1 host=vm`,
    `put edge.trailing\\ ${T} 1 host=vm`,
    `put #edge.hash ${T} 1 host=vm`,
    `put edge.мера ${T} 1 хост=машина`,
    `put edge"quote ${T} 1 host="vm"`,
    `put edge.tagchars ${T} 1 k,1=v,1 k2=v=2 k\\3=v\\3`,
    `put edge.tagback ${T} 1 k=v\\`,
    `put edge.timetag ${T} 1 time=now`,
    `put\tedge.tabs\t${T}\t1\thost=vm`,
    `put edge.short ${T}`,
    `PUT edge.upper ${T} 1 host=vm`,
    `version`,
    ``,
    `   put edge.lead ${T} 1 host=vm   `,
    `put edge.crlf ${T} 1 host=vm\r`,
  ];
}

/** /api/put bodies (raw JSON text) for the HTTP differential. */
export function jsonEdges(T: number): string[] {
  return [
    JSON.stringify([{ metric: 'netdata.system.idlejitter.min', timestamp: T, value: 75.0, tags: { host: 'vm', _is_ephemeral: 'false' } }]),
    JSON.stringify({ metric: 'jedge.object', timestamp: T, value: 1, tags: { host: 'vm' } }),
    '[]',
    '',
    ' []',
    'null',
    JSON.stringify([{ metric: 'jedge.ms', timestamp: T * 1000 + 123, value: 2, tags: { host: 'vm' } }]),
    JSON.stringify([{ metric: 'jedge.notags', timestamp: T, value: 3 }]),
    JSON.stringify([{ metric: 'jedge.nulltags', timestamp: T, value: 3, tags: null }]),
    JSON.stringify([{ metric: 'jedge.emptytag', timestamp: T, value: 3, tags: { a: '', b: 'x' } }]),
    `[{"metric":"jedge.nulltagvalue","timestamp":${T},"value":3,"tags":{"a":null,"b":"x"}}]`,
    `[{"Metric":"jedge.case","TIMESTAMP":${T},"Value":4,"TAGS":{"h":"x"}}]`,
    `[{"metric":"jedge.dup","metric":"jedge.dup2","timestamp":${T},"value":4}]`,
    `[{"metric":"jedge.trailing","timestamp":${T},"value":4}] trailing garbage`,
    `[{"metric":"jedge.floatts","timestamp":${T}.5,"value":4}]`,
    `[{"metric":"jedge.expts","timestamp":1e9,"value":4}]`,
    `[{"metric":"jedge.strvalue","timestamp":${T},"value":"4"}]`,
    `[{"metric":"jedge.huge","timestamp":${T},"value":1.7976931348623157e308}]`,
    `[{"metric":"jedge.toohuge","timestamp":${T},"value":1e400}]`,
    `[{"metric":"jedge.nullvalue","timestamp":${T},"value":null}]`,
    `[{"metric":"jedge.novalue","timestamp":${T}}]`,
    `[{"timestamp":${T},"value":1,"tags":{"h":"nometric"}}]`,
    `[null, {"metric":"jedge.afternull","timestamp":${T},"value":1}]`,
    `[{"metric":"jedge\\nnewline","timestamp":${T},"value":1}]`,
    `[{"metric":"jedge odd,chars=\\\\x","timestamp":${T},"value":1,"tags":{"k ey":"v,al=ue","emoji":"\\ud83d\\ude00"}}]`,
    `[{"metric":"jedge.emptykey","timestamp":${T},"value":1,"tags":{"":"x"}}]`,
    `[{"metric":"jedge.bigts","timestamp":99999999999999999,"value":1}]`,
    `[{"metric":"jedge.negts","timestamp":-5,"value":1}]`,
    `[{"metric":"jedge.zero","value":1}]`,
    `[{"metric":"jedge.numtag","timestamp":${T},"value":1,"tags":{"a":1}}]`,
    `{"metric":"jedge.broken"`,
    `[1,2]`,
    `{"metric":"jedge.objtrailing","timestamp":${T},"value":5} {"x":1}`,
  ];
}

/** Graphite edge cases; every one carries a timestamp (lines without one are stamped by each server's clock). */
export function graphiteEdges(T: number): string[] {
  return [
    `netdata.vm.system.idlejitter.min;_is_ephemeral=false;_has_unstable_connection=false 75.0000000 ${T}`,
    `gedge.frac 1 ${T}.25`,
    `gedge.frac2 1 ${T}.999999999`,
    `gedge.after2038 1 2200000000`,
    `gedge.before1901 1 -2200000000`,
    `gedge.negfrac 1 -1.5`,
    `gedge.nan NaN ${T}`,
    `gedge.inf Inf ${T}`,
    `gedge.huge 1e308 ${T}`,
    `gedge.toohuge 1e309 ${T}`,
    `gedge.hex 0x10p0 ${T}`,
    `gedge.bad abc ${T}`,
    `gedge.badts 1 abc`,
    `gedge.expts 1 1.7e9`,
    `gedge.four 1 ${T} extra`,
    `gedge.one`,
    `gedge..empty.parts. 1 ${T}`,
    `gedge,comma 1 ${T}`,
    `gedge\\back 1 ${T}`,
    `gedge.trailing\\ 1 ${T}`,
    `#gedge.hash 1 ${T}`,
    `gedge.tag;k=v,x;k2=a=b 1 ${T}`,
    `servers.web01.cpu.load 2 ${T}`,
    `servers.web01.cpu 2 ${T}`,
    `servers.db01.disk.sda.used 3 ${T}`,
    `stats.counters.requests.count 4 ${T}`,
    `stats.timers.latency.upper_90 5 ${T}`,
    `netdata.vm.apps.cpu.sshd 6 ${T}`,
    ``,
    `   gedge.lead 1 ${T}   `,
    `gedge.tabs\t1\t${T}`,
    `gedge.crlf 1 ${T}\r`,
  ];
}

/** Templates for the second Graphite service (both servers get the same). */
export const GRAPHITE_TEMPLATES = [
  'servers.* .host.measurement.field',
  'servers.db01 .host.measurement.device.field*',
  'stats.counters.* ..measurement.field region=eu',
  'stats.* .type.measurement*',
  'netdata.* .host.measurement*',
  'measurement.measurement.tail*',
];
export const GRAPHITE_TAGS = ['dc=west', 'host=default'];
