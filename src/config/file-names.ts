/**
 * Names from the config that become file names under `spool-dir`: a listener's spool directory and a backend's
 * dead-letter file. The config check (listener-checks.ts) rejects names that would share a file; the relay opens them.
 */

/** A listener (or output) name as a file name: `http://127.0.0.1:9096` → `http___127.0.0.1_9096`. */
export function spoolDirName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** `<listener>.<output>.lp`, the dead-letter file of one backend in `<spool-dir>/dead-letters/`. */
export function deadLetterFileName(listener: string, output: string): string {
  return `${spoolDirName(listener)}.${spoolDirName(output)}.lp`;
}
