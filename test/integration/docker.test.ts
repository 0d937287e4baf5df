/**
 * No Docker engine runs here, so the container files are checked as far as real tools can without one:
 * the compose file by docker-compose's own parser, the HAProxy config it mounts by `haproxy -c`, and the Dockerfile
 * for the properties we promise (multi-stage, production deps only, non-root, HEALTHCHECK on /health).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/relay.js';

const run = promisify(execFile);
const docker = path.join(REPO_ROOT, 'docker');

test('docker-compose accepts the compose file', { skip: !existsSync('/usr/bin/docker-compose') && 'docker-compose not installed' }, async () => {
  const { stdout } = await run('docker-compose', ['-f', path.join(docker, 'docker-compose.yml'), 'config', '--services'], { cwd: docker });
  assert.deepEqual(stdout.trim().split('\n').sort(), ['grafana', 'haproxy', 'influxdb-a', 'influxdb-b', 'prometheus', 'relay-1', 'relay-2', 'telegraf']);
  await run('docker-compose', ['-f', path.join(docker, 'docker-compose.yml'), 'config', '-q'], { cwd: docker });
});

test('the relay config the containers mount is valid', async () => {
  const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'dist/src/main.js'), '-check', '-config', path.join(docker, 'relay.toml')]);
  assert.match(stdout, /ok/);
});

test('the Dockerfile: multi-stage, production deps only, non-root, health check on /health', async () => {
  const text = await readFile(path.join(docker, 'Dockerfile'), 'utf8');
  assert.equal(text.match(/^FROM /gm)?.length, 2);
  assert.match(text, /npm ci --omit=dev/);
  assert.match(text, /^USER node$/m);
  assert.match(text, /INFLUX_RELAY_HEALTH_URL=http:\/\/127\.0\.0\.1:9096\/health/);
  assert.match(text, /^HEALTHCHECK [^\n]*\\\n\s+CMD [^\n]*INFLUX_RELAY_HEALTH_URL/m);
  assert.match(text, /ENTRYPOINT \["node", "dist\/src\/main.js"\]/);
});

test('the HAProxy config the compose stack mounts parses (names resolve only inside compose)', async () => {
  // Outside compose the service names do not resolve: haproxy -c says so in warnings, but the syntax must be valid.
  // The stats password comes from the environment there (the entrypoint sets it).
  const env = { ...process.env, HAPROXY_STATS_PASSWORD: 'test-password' };
  const r = await run('haproxy', ['-c', '-f', path.join(docker, 'haproxy', 'haproxy.cfg')], { env }).catch((e: { stdout: string; stderr: string; code: number }) => e);
  const out = `${r.stdout}${r.stderr}`;
  assert.match(out, /Configuration file is valid/, out);
});
