/**
 * Linux /proc readers for the benchmarks: a process's CPU time and resident memory, the box's busy time,
 * and the machine description. Reads are synchronous and cheap (a few hundred bytes each).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';

/** USER_HZ: the unit of /proc tick counters. 100 on every Linux we run on; `getconf CLK_TCK` to be sure. */
export const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** user + system CPU seconds of a process (its own threads, not its children); NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** CPU seconds this process's waited-for children used (cutime + cstime): how load.ts accounts for wrk. */
export function childrenCpuSeconds(pid: number | 'self' = 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

function statusKb(pid: number, key: string): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Resident set size in MiB (VmRSS); NaN when the process is gone. */
export function rssMiB(pid: number): number {
  return statusKb(pid, 'VmRSS') / 1024;
}

/** Direct children of a process (e.g. nginx's worker under its master). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Busy and total CPU seconds of the whole box since boot, from the first line of /proc/stat. */
export function boxCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** Peak of a sampled value (e.g. RSS) while something runs: start(), then stop() returns the max seen. */
export class PeakSampler {
  private peak = NaN;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sample: () => number,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.take();
    this.timer = setInterval(() => this.take(), this.intervalMs);
  }

  private take(): void {
    const v = this.sample();
    if (!Number.isNaN(v) && !(v <= this.peak)) this.peak = v;
  }

  stop(): number {
    clearInterval(this.timer);
    this.take();
    return this.peak;
  }
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memGiB: number;
  node: string;
  kernel: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    // keep os.cpus()'s answer
  }
  let kernel = 'unknown';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // not Linux?
  }
  return {
    cores: availableParallelism(),
    cpuModel,
    memGiB: totalmem() / 1024 ** 3,
    node: process.version,
    kernel,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

/** Busy cores of the whole box over `windowS` seconds. */
export async function boxBusyCores(windowS: number): Promise<number> {
  const a = boxCpu();
  await new Promise((r) => setTimeout(r, windowS * 1000));
  const b = boxCpu();
  return (b.busy - a.busy) / windowS;
}

/**
 * Waits (up to timeoutS) until the box is quiet: fewer than maxBusy cores busy over a 3 s window. Other work on the
 * machine steals CPU from the relay and skews every number, so the report says how busy the box was.
 */
export async function waitForQuiet(maxBusy: number, timeoutS: number, log: (m: string) => void): Promise<{ busy: number; waitedS: number; quiet: boolean }> {
  const t0 = Date.now();
  for (;;) {
    const busy = await boxBusyCores(3);
    const waitedS = (Date.now() - t0) / 1000;
    if (busy < maxBusy) return { busy, waitedS, quiet: true };
    if (waitedS >= timeoutS) return { busy, waitedS, quiet: false };
    log(`the box is busy (${busy.toFixed(2)} cores used by other processes); waiting for it to quiet down`);
  }
}
