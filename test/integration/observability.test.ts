/**
 * The Prometheus side: the alerting rules pass `promtool check rules`, their unit tests (`promtool test rules`,
 * the backlog alerts firing) pass, and every metric name the rules and the Grafana dashboard use is exposed by a real
 * relay's /metrics or by HAProxy's prometheus-exporter on the stats port of the config we generate.
 * Skipped, saying why, without Debian's prometheus (promtool) or haproxy.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { buildConfig } from '../../src/haproxy/build.js';
import { validateCluster } from '../../src/haproxy/load.js';
import { renderConfig } from '../../src/haproxy/render.js';
import { terminate, track } from '../helpers/children.js';
import { HAPROXY_BIN } from '../helpers/ha-stack.js';
import { eventually } from '../helpers/eventually.js';
import { get } from '../helpers/http.js';
import { freePorts } from '../helpers/ports.js';
import { REPO_ROOT, relayToml, startRelay } from '../helpers/relay.js';

const PROMTOOL = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';
const NO_PROMTOOL = !existsSync(PROMTOOL) && `skipped: ${PROMTOOL} is not installed (Debian package prometheus)`;
const RULES = path.join(REPO_ROOT, 'docker', 'prometheus', 'influx-relay.rules.yml');
const RULES_TEST = path.join(REPO_ROOT, 'docker', 'prometheus', 'influx-relay.rules.test.yml');
const DASHBOARD = path.join(REPO_ROOT, 'docker', 'grafana', 'dashboards', 'influx-relay.json');
const run = promisify(execFile);
const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** Metric names in a Prometheus exposition, with a histogram's and a summary's series names. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** The relay's and HAProxy's metric names a text uses (`up` and PromQL functions are not ours). */
function usedNames(text: string): Set<string> {
  return new Set([...text.matchAll(/\b(?:influx_relay|haproxy)_[a-z0-9_]+\b/g)].map((m) => m[0]));
}

test('the alerting rules pass promtool check rules', { skip: NO_PROMTOOL }, async () => {
  const { stdout } = await run(PROMTOOL, ['check', 'rules', RULES]);
  assert.match(stdout, /SUCCESS: \d+ rules found/);
});

test('promtool test rules: the backlog alerts fire (and the drop and no-write-server ones)', { skip: NO_PROMTOOL }, async () => {
  const { stdout } = await run(PROMTOOL, ['test', 'rules', RULES_TEST], { cwd: path.dirname(RULES_TEST) });
  assert.match(stdout, /SUCCESS/);
  const tests = await readFile(RULES_TEST, 'utf8');
  for (const alert of ['InfluxRelayBacklogOld', 'InfluxRelayBacklogFilling']) assert.match(tests, new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
});

test('every metric name in the rules and the dashboard exists in a real relay or HAProxy', { skip: !existsSync(HAPROXY_BIN) && `skipped: ${HAPROXY_BIN} is not installed` }, async () => {
  const [relayPort, deadA, deadB, stats, http, fresh] = (await freePorts(6)) as [number, number, number, number, number, number];
  // Outputs nobody listens on: the metrics are registered whether or not a backend answers.
  const relay = await startRelay({
    toml: `spool-dir = "spool"\n${relayToml({
      bindAddr: `127.0.0.1:${relayPort}`,
      outputs: [
        { name: 'influxdb-a', location: `http://127.0.0.1:${deadA}/write` },
        { name: 'influxdb-b', location: `http://127.0.0.1:${deadB}/write` },
      ],
    })}`,
  });
  cleanup.push(() => relay.destroy());
  const relayMetrics = await get(`${relay.url}/metrics`);
  assert.equal(relayMetrics.status, 200);

  const dir = await mkdtemp(path.join(tmpdir(), 'observability-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const cluster = validateCluster({
    relays: [{ name: 'relay-1', address: `127.0.0.1:${relayPort}` }],
    databases: [{ name: 'influxdb-a', address: `127.0.0.1:${deadA}` }],
    http: { bind: `127.0.0.1:${http}` },
    stats: { bind: `127.0.0.1:${stats}`, password: 'pw' },
    freshness: { port: fresh },
  });
  const cfg = path.join(dir, 'haproxy.cfg');
  await writeFile(cfg, renderConfig(buildConfig(cluster)));
  const haproxy = spawn(HAPROXY_BIN, ['-f', cfg, '-db'], { stdio: 'ignore' });
  track(haproxy);
  cleanup.push(() => terminate(haproxy, 5000));
  const auth = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
  const haproxyMetrics = await eventually(async () => {
    const res = await get(`http://127.0.0.1:${stats}/metrics`, { headers: { authorization: auth }, timeoutMs: 2000 });
    assert.equal(res.status, 200);
    return res;
  }, 10_000);

  const exposed = new Set([...exposedNames(relayMetrics.body), ...exposedNames(haproxyMetrics.body)]);
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }>; templating: { list: Array<{ definition?: string }> } };
  const exprs = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.definition ?? '')];
  for (const [what, text] of [['rules', await readFile(RULES, 'utf8')], ['dashboard', exprs.join('\n')]] as const) {
    const used = usedNames(text);
    assert.ok(used.size > 5, `${what}: found only ${[...used].join(', ')}`);
    const missing = [...used].filter((n) => !exposed.has(n));
    assert.deepEqual(missing, [], `${what} uses metrics nobody exposes`);
  }
});
