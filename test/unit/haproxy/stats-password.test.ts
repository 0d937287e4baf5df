// The stats password kept out of haproxy.cfg (stats.password-env, used by the compose stack): real HAProxy refuses
// to start without the variable and checks the password it holds; the compose entrypoint generates one once.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildConfig } from '../../../src/haproxy/build.js';
import { validateCluster } from '../../../src/haproxy/load.js';
import { renderConfig } from '../../../src/haproxy/render.js';
import { HAPROXY, repoRoot, SKIP_NO_HAPROXY, withTempDir } from './haproxy-bin.js';

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, output: stdout + stderr });
    });
  });
}

const cfg = renderConfig(buildConfig(validateCluster({
  relays: [{ name: 'relay-1', address: '127.0.0.1:19096' }],
  databases: [{ name: 'influxdb-a', address: '127.0.0.1:18086' }],
  http: { bind: '127.0.0.1:19086' },
  stats: { bind: '127.0.0.1:18404', 'password-env': 'STATS_PW' },
  freshness: { port: 18405 },
})));

describe('stats.password-env', { skip: SKIP_NO_HAPROXY }, () => {
  test('the password is a variable in the file, and HAProxy refuses to start without it', async () => {
    assert.match(cfg, /^ {4}user admin insecure-password "\$\{STATS_PW\}"$/m);
    await withTempDir(async (dir) => {
      const file = join(dir, 'haproxy.cfg');
      await writeFile(file, cfg);
      const { STATS_PW: _unset, ...env } = process.env;
      const without = await run(HAPROXY, ['-c', '-f', file], env);
      assert.notEqual(without.code, 0, without.output);
      assert.match(without.output, /environment variable STATS_PW is not set/);
      const withIt = await run(HAPROXY, ['-c', '-f', file], { ...env, STATS_PW: 's3cret' });
      assert.equal(withIt.code, 0, withIt.output);
      assert.doesNotMatch(withIt.output, /WARNING|ALERT/);
    });
  });
});

describe('docker/haproxy/entrypoint.sh', () => {
  const script = join(repoRoot(), 'docker/haproxy/entrypoint.sh');
  /** Runs the entrypoint with a stand-in for the image's docker-entrypoint.sh that prints the password it got. */
  const entry = async (dir: string, extra: NodeJS.ProcessEnv) => {
    const fake = join(dir, 'docker-entrypoint.sh');
    await writeFile(fake, '#!/bin/sh\nprintf "%s|%s" "$HAPROXY_STATS_PASSWORD" "$*"\n');
    await chmod(fake, 0o755);
    const { HAPROXY_STATS_PASSWORD: _unset, ...env } = process.env;
    return run('/bin/sh', [script, 'haproxy', '-f', 'x.cfg'], { ...env, PATH: `${dir}:${env['PATH'] ?? ''}`, HAPROXY_STATS_PASSWORD_FILE: join(dir, 'pw'), ...extra });
  };

  test('generates a password once, private to HAProxy\'s user, and passes it on', async () => {
    await withTempDir(async (dir) => {
      const first = await entry(dir, {});
      assert.equal(first.code, 0, first.output);
      const stored = await readFile(join(dir, 'pw'), 'utf8');
      assert.match(stored, /^[A-Za-z0-9]{16,}$/);
      assert.ok(first.output.includes(`${stored}|haproxy -f x.cfg`), first.output);
      assert.equal((await stat(join(dir, 'pw'))).mode & 0o077, 0, 'readable by its owner only');
      assert.ok((await entry(dir, {})).output.includes(`${stored}|haproxy -f x.cfg`), 'the same password on the next start');
      assert.ok((await entry(dir, { HAPROXY_STATS_PASSWORD: 'given' })).output.includes('given|haproxy -f x.cfg'), 'a given password wins');
    });
  });
});
