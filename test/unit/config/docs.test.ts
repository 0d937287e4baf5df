import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderConfigDocs } from '../../../src/config/index.js';
import {
  HTTP_LISTENER_FIELDS,
  HTTP_OUTPUT_FIELDS,
  ROOT_FIELDS,
  TCP_LISTENER_FIELDS,
  UDP_FORWARD_FIELDS,
  UDP_LISTENER_FIELDS,
} from '../../../src/config/schema.js';
import { REPO_ROOT, repoFile } from './helpers.js';

const CLI = join(REPO_ROOT, 'dist/src/config/docs-cli.js');

test('docs/configuration.md is what the schema generates (run `make docs` when this fails)', () => {
  assert.equal(repoFile('docs/configuration.md'), renderConfigDocs());
});

test('the docs list every key with its default and origin', () => {
  const docs = renderConfigDocs();
  const tables = [ROOT_FIELDS, HTTP_LISTENER_FIELDS, HTTP_OUTPUT_FIELDS, UDP_LISTENER_FIELDS, UDP_FORWARD_FIELDS, TCP_LISTENER_FIELDS];
  for (const fields of tables) {
    for (const f of Object.values(fields)) {
      assert.ok(docs.includes(`| \`${f.key}\` | ${f.type} | ${f.defaultText} | ${f.origin} |`), f.key);
    }
  }
  assert.match(docs, /\| `buffer-size-mb` \| integer \(MB\) \| `64` \| influxdb-relay \|/);
  assert.match(docs, /\| `ack` \| [^|]+ \| `"any"` \| relay \|/);
});

test('docs-cli writes the page, and --check fails only on drift', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-docs-'));
  try {
    const file = join(dir, 'configuration.md');
    execFileSync(process.execPath, [CLI, file]);
    assert.equal(readFileSync(file, 'utf8'), renderConfigDocs());
    execFileSync(process.execPath, [CLI, '--check', file]); // throws on a non-zero exit

    writeFileSync(file, renderConfigDocs().replace('`"10s"`', '`"5s"`'));
    const drift = (() => {
      try {
        execFileSync(process.execPath, [CLI, '--check', file], { stdio: 'pipe' });
      } catch (err) {
        return err as { status: number; stderr: Buffer };
      }
      return assert.fail('--check passed on a drifted file');
    })();
    assert.equal(drift.status, 1);
    assert.match(drift.stderr.toString(), /is out of date with src\/config\/schema\.ts: run `make docs`/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
