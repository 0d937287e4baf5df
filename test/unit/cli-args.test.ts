import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, UsageError } from '../../src/cli-args.js';

test('Go flag style and GNU style', () => {
  assert.equal(parseArgs(['-config', 'r.toml']).config, 'r.toml');
  assert.equal(parseArgs(['--config', 'r.toml']).config, 'r.toml');
  assert.equal(parseArgs(['--config=r.toml']).config, 'r.toml');
  assert.equal(parseArgs(['-config=r.toml', '-log-level', 'debug']).logLevel, 'debug');
  assert.equal(parseArgs(['-check', '-config', 'r.toml']).command, 'check');
  assert.equal(parseArgs(['-version']).command, 'version');
  assert.deepEqual(parseArgs(['haproxy', '-cluster', 'c.toml']), { command: 'haproxy', rest: ['-cluster', 'c.toml'] });
  assert.deepEqual(parseArgs(['missed', '-config', 'r.toml', '--json']), { command: 'missed', rest: ['-config', 'r.toml', '--json'] });
});

test('usage errors', () => {
  assert.throws(() => parseArgs([]), UsageError);
  assert.throws(() => parseArgs(['-config']), UsageError);
  assert.throws(() => parseArgs(['-nope', 'x']), UsageError);
  assert.throws(() => parseArgs(['stray']), UsageError);
});

test('environment fallbacks for containers; flags win', () => {
  assert.equal(parseArgs([], { INFLUX_RELAY_CONFIG: '/etc/r.toml' }).config, '/etc/r.toml');
  assert.equal(parseArgs(['-config', 'a.toml'], { INFLUX_RELAY_CONFIG: '/etc/r.toml' }).config, 'a.toml');
  assert.equal(parseArgs([], { INFLUX_RELAY_CONFIG: 'r.toml', INFLUX_RELAY_LOG_LEVEL: 'warn' }).logLevel, 'warn');
});
