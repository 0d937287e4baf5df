/**
 * Writes docs/configuration.md from the schema: `node dist/src/config/docs-cli.js [--check] [FILE]`.
 * With --check, writes nothing and exits 1 when the file differs from what would be generated (CI drift check).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './docs.js';

/** docs/configuration.md of this checkout (this file runs from dist/src/config/). */
const DOCS_FILE = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const file = argv.find((a) => !a.startsWith('--')) ?? DOCS_FILE;
  const wanted = renderConfigDocs();
  if (!check) {
    writeFileSync(file, wanted);
    process.stdout.write(`wrote ${file}\n`);
    return 0;
  }
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // a missing file is drift too
  }
  if (current === wanted) return 0;
  process.stderr.write(
    `${file} is out of date with src/config/schema.ts: run \`make docs\` (node dist/src/config/docs-cli.js) and commit it.\n`,
  );
  return 1;
}

process.exitCode = main(process.argv.slice(2));
