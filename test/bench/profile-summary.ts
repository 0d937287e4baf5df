/**
 * Top self-time functions (and files) of a V8 .cpuprofile, as written by `node --cpu-prof`:
 *
 *   node dist/test/bench/profile-summary.js <file.cpuprofile> [top=25]
 *
 * Self time of a node = the sum of the sampling intervals whose sample landed on it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Hot {
  name: string;
  where: string;
  selfMs: number;
  /** Share of busy (non-idle) time. */
  share: number;
  /** Functions that called it, by the self time spent under them here, most first. */
  callers: Array<{ name: string; share: number }>;
}

export interface ProfileSummary {
  sampledMs: number;
  idleMs: number;
  functions: Hot[];
  files: Hot[];
  /** Time spent in a function or anything it called (each sample counted once per function). */
  inclusive: Array<{ name: string; where: string; ms: number; share: number }>;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length);
  const dist = p.indexOf('/dist/');
  return dist >= 0 ? p.slice(dist + 1) : p;
}

const label = (n: ProfileNode): { name: string; where: string } => {
  const { functionName, url, lineNumber } = n.callFrame;
  return { name: functionName || '(anonymous)', where: url === '' ? '(native)' : `${shortUrl(url)}:${lineNumber + 1}` };
};

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    totalUs += dt;
  }
  interface Acc { name: string; where: string; us: number; callers: Map<string, number> }
  const fns = new Map<string, Acc>();
  const files = new Map<string, Acc>();
  const add = (m: Map<string, Acc>, key: string, name: string, where: string, us: number, caller?: string): void => {
    const a = m.get(key) ?? { name, where, us: 0, callers: new Map<string, number>() };
    a.us += us;
    if (caller !== undefined) a.callers.set(caller, (a.callers.get(caller) ?? 0) + us);
    m.set(key, a);
  };
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const { name, where } = label(n);
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    const p = parent.get(id);
    const caller = p ? `${label(p).name} ${label(p).where}` : '(root)';
    add(fns, `${name}@${where}`, name, where, us, caller);
    add(files, shortUrl(n.callFrame.url), shortUrl(n.callFrame.url), '', us);
  }
  const busyUs = totalUs - idleUs;
  const incl = new Map<string, { name: string; where: string; us: number }>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    const seen = new Set<string>();
    for (let n = byId.get(profile.samples[i] as number); n; n = parent.get(n.id)) {
      const { name, where } = label(n);
      if (name === '(idle)' || name === '(root)') break;
      const key = `${name}@${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const a = incl.get(key) ?? { name, where, us: 0 };
      a.us += dt;
      incl.set(key, a);
    }
  }
  const rank = (m: Map<string, Acc>): Hot[] =>
    [...m.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((a) => ({
        name: a.name,
        where: a.where,
        selfMs: a.us / 1000,
        share: busyUs > 0 ? a.us / busyUs : 0,
        callers: [...a.callers.entries()]
          .sort((x, y) => y[1] - x[1])
          .slice(0, 3)
          .map(([name, us]) => ({ name, share: a.us > 0 ? us / a.us : 0 })),
      }));
  const inclusive = [...incl.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((a) => ({ name: a.name, where: a.where, ms: a.us / 1000, share: busyUs > 0 ? a.us / busyUs : 0 }));
  return { sampledMs: totalUs / 1000, idleMs: idleUs / 1000, functions: rank(fns), files: rank(files), inclusive };
}

export function renderSummary(s: ProfileSummary, withCallers = 10): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)} %`;
  const busy = s.sampledMs - s.idleMs;
  const out = [
    `profile: ${(s.sampledMs / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s busy ` +
      `(idle ${((s.idleMs / Math.max(1, s.sampledMs)) * 100).toFixed(0)} %); shares below are of busy time`,
    '',
    'top self time by function (callers of the first ones indented):',
  ];
  s.functions.forEach((h, i) => {
    out.push(`${pct(h.share)} ${h.selfMs.toFixed(0).padStart(8)} ms  ${h.name}  ${h.where}`);
    if (i < withCallers) for (const c of h.callers) out.push(`${' '.repeat(20)}${pct(c.share)} from ${c.name}`);
  });
  out.push('', 'top inclusive time (the function and what it called):');
  for (const h of s.inclusive) out.push(`${pct(h.share)} ${h.ms.toFixed(0).padStart(8)} ms  ${h.name}  ${h.where}`);
  out.push('', 'top self time by file:');
  for (const h of s.files) out.push(`${pct(h.share)} ${h.selfMs.toFixed(0).padStart(8)} ms  ${h.name}`);
  return out.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/test/bench/profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(renderSummary(summarizeProfile(profile, Number(process.argv[3] ?? 25))) + '\n');
}
