/** The relay's version, from package.json (two levels above dist/src and src alike). */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const VERSION = readVersion();
/** Sent as X-Influxdb-Version: clients log it; it must not pass for a real InfluxDB version. */
export const VERSION_HEADER = `relay-${VERSION}`;
