// Bookkeeping for the processes that test helpers spawn: every child is tracked by PID
// and SIGKILLed if the test process exits (normally, by uncaught error or by signal),
// so a failing test never leaves an influxd or relay behind. Kills are always by PID.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Map<number, ChildProcess>();
const dirs = new Set<string>();
let installed = false;

function killAll(): void {
  for (const pid of live.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  dirs.clear();
}

function onSignal(sig: NodeJS.Signals): void {
  killAll();
  // Re-raise so the default action (termination) still happens unless someone else handles it.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, onSignal);
}

/** Track a freshly spawned child; it is forgotten once it exits. */
export function track(child: ChildProcess): void {
  install();
  const pid = child.pid;
  if (pid === undefined) return;
  live.set(pid, child);
  child.once('exit', () => live.delete(pid));
}

/** A temp dir removed at abnormal exit (after its processes are killed); untrack once removed. */
export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when the child has exited and (briefly) its stdio has drained. */
export async function exited(child: ChildProcess): Promise<ExitInfo> {
  if (!hasExited(child)) await new Promise((resolve) => child.once('exit', resolve));
  // 'close' follows once stdout/stderr end; bounded in case a grandchild holds the pipes.
  if (child.stdout?.readableEnded === false || child.stderr?.readableEnded === false) {
    await Promise.race([
      new Promise((resolve) => child.once('close', resolve)),
      new Promise((resolve) => setTimeout(resolve, 1000).unref()),
    ]);
  }
  return { code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null };
}

function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || hasExited(child)) return;
  try {
    process.kill(child.pid, sig);
  } catch {
    // raced with exit
  }
}

/** SIGTERM by PID, SIGKILL after graceMs; resolves with how it exited. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<ExitInfo> {
  signal(child, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signal(child, 'SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([exited(child), killed]);
  clearTimeout(timer);
  return exited(child);
}

export async function killNow(child: ChildProcess): Promise<ExitInfo> {
  signal(child, 'SIGKILL');
  return exited(child);
}

/** Bounded text capture of a child's output; keeps the last maxBytes. */
export class OutputCapture {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly maxBytes = 4 * 1024 * 1024) {}

  attach(child: ChildProcess): void {
    for (const s of [child.stdout, child.stderr]) {
      s?.setEncoding('utf8');
      s?.on('data', (d: string) => this.push(d));
    }
  }

  private push(d: string): void {
    this.chunks.push(d);
    this.size += d.length;
    while (this.size > this.maxBytes && this.chunks.length > 1) this.size -= (this.chunks.shift() as string).length;
  }

  text(): string {
    return this.chunks.join('');
  }

  tail(lines: number): string {
    return this.text().trimEnd().split('\n').slice(-lines).join('\n');
  }
}
