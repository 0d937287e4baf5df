// Golden configs: each cluster renders to the committed bytes, and real `haproxy -c` accepts the result without a
// warning. UPDATE_GOLDEN=1 rewrites the golden files (review the diff before committing).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { buildConfig } from '../../../src/haproxy/build.js';
import { parseCluster, validateCluster } from '../../../src/haproxy/load.js';
import { renderConfig } from '../../../src/haproxy/render.js';
import { haproxyCheck, repoRoot, run, SKIP_NO_HAPROXY, withTempDir } from './haproxy-bin.js';

const root = repoRoot();
const goldenDir = join(root, 'test/unit/haproxy/golden');

interface Case {
  readonly name: string;
  /** Cluster file, relative to the repository root (also the `source` named in the header). */
  readonly cluster: string;
}

const CASES: readonly Case[] = [
  { name: 'example', cluster: 'haproxy/cluster.example.toml' },
  { name: 'three-databases', cluster: 'test/unit/haproxy/golden/three-databases.toml' },
  { name: 'tls', cluster: 'test/unit/haproxy/golden/tls.toml' },
  { name: 'minimal', cluster: 'test/unit/haproxy/golden/minimal.toml' },
];

async function render(c: Case): Promise<string> {
  const text = await readFile(join(root, c.cluster), 'utf8');
  return renderConfig(buildConfig(parseCluster(text, c.cluster)), { source: c.cluster });
}

/** haproxy -c loads the certificate, so the TLS case is checked with a throwaway self-signed one. */
async function withCert<T>(fn: (pem: string | undefined) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    const key = join(dir, 'key.pem');
    const crt = join(dir, 'crt.pem');
    const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '2', '-subj', '/CN=localhost']);
    if (made.code !== 0) return fn(undefined);
    const pem = join(dir, 'influx.pem');
    await writeFile(pem, (await readFile(crt, 'utf8')) + (await readFile(key, 'utf8')));
    return fn(pem);
  });
}

describe('golden haproxy.cfg', () => {
  for (const c of CASES) {
    test(`${c.name} renders the golden file`, async () => {
      const text = await render(c);
      const file = join(goldenDir, `${c.name}.cfg`);
      if (process.env.UPDATE_GOLDEN === '1') await writeFile(file, text);
      assert.equal(text, await readFile(file, 'utf8'), `${file} is stale: run with UPDATE_GOLDEN=1 and review the diff`);
    });

    test(`${c.name} passes haproxy -c with no warning`, { skip: SKIP_NO_HAPROXY }, async () => {
      const checked = c.name === 'tls'
        ? await withCert(async (pem) => {
          assert.ok(pem, 'openssl could not make a test certificate');
          const raw = parseToml(await readFile(join(root, c.cluster), 'utf8'));
          (raw.http as Record<string, unknown>)['tls-cert'] = pem;
          return haproxyCheck(renderConfig(buildConfig(validateCluster(raw))));
        })
        : await haproxyCheck(await render(c));
      assert.equal(checked.code, 0, checked.output);
      assert.doesNotMatch(checked.output, /WARNING|ALERT/, checked.output);
      assert.match(checked.output, /Configuration file is valid/);
    });
  }

  test('the committed haproxy/haproxy.cfg is the example, regenerated', async () => {
    const text = await render({ name: 'example', cluster: 'haproxy/cluster.example.toml' });
    assert.equal(await readFile(join(root, 'haproxy/haproxy.cfg'), 'utf8'), text,
      'regenerate: influx-relay haproxy -cluster haproxy/cluster.example.toml -out haproxy/haproxy.cfg');
  });
});
