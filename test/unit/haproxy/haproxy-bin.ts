// The real HAProxy, as the judge of what we render: `haproxy -c` on a temp file, and a foreground instance.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HAPROXY = '/usr/sbin/haproxy';
/** A reason to skip, or false when the real binary is there. */
export const SKIP_NO_HAPROXY: string | false = existsSync(HAPROXY) ? false : `skipped: ${HAPROXY} is not installed (Debian package haproxy)`;

/** The repository root, found from this compiled file (dist/test/unit/haproxy/...). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test file');
    dir = up;
  }
  return dir;
}

export function run(file: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, output: stdout + stderr });
    });
  });
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'influx-relay-haproxy-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `haproxy -c -f` on the text; resolves with its exit code and everything it printed. */
export function haproxyCheck(cfg: string): Promise<{ code: number; output: string }> {
  return withTempDir(async (dir) => {
    const file = join(dir, 'haproxy.cfg');
    await writeFile(file, cfg);
    return run(HAPROXY, ['-c', '-f', file]);
  });
}

export interface RunningHaproxy {
  readonly child: ChildProcess;
  /** Everything HAProxy logged so far (stdout and stderr). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts HAProxy in the foreground (-db) as our child; stop() ends it by PID and waits for the exit. */
export async function startHaproxy(cfg: string, dir: string): Promise<RunningHaproxy> {
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, cfg);
  const child = spawn(HAPROXY, ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}
