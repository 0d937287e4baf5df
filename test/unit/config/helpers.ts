import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The checkout's root (tests run from dist/test/unit/config/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export function repoFile(path: string): string {
  return readFileSync(REPO_ROOT + path, 'utf8');
}
