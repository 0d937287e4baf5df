/**
 * Every process the benchmark starts is appended to $BENCH_PIDFILE (one `pid name` a line), so run.sh's trap can
 * stop each one by PID even when the Node orchestrator itself is killed. Without the variable this is a no-op.
 */
import { appendFileSync } from 'node:fs';

export function recordPid(pid: number | undefined, name: string): void {
  const file = process.env.BENCH_PIDFILE;
  if (!file || pid === undefined || pid <= 0) return;
  appendFileSync(file, `${pid} ${name}\n`);
}
