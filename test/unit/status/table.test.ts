import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStatsCsv } from '../../../src/status/haproxy-stats.js';
import { serverView, type ClusterStatus } from '../../../src/status/cluster.js';
import { renderClusterTable } from '../../../src/status/table.js';

test("HAProxy's stats CSV is keyed by the header's column names", () => {
  const rows = parseStatsCsv('# pxname,svname,status,check_status,scur,\nwrites,relay-1,UP,L7OK,0,\nwrites,BACKEND,UP,,0,\n');
  assert.deepEqual(rows[0], { pxname: 'writes', svname: 'relay-1', status: 'UP', check_status: 'L7OK', scur: '0', '': '' });
  assert.throws(() => parseStatsCsv('Unknown command'), /not HAProxy's stats CSV/);
});

test('a health check in progress shows its last result, without HAProxy\'s "* " prefix', () => {
  const rows = parseStatsCsv('# pxname,svname,status,check_status,scur,\nreads_fresh,influxdb-b,UP,* L7OK,2,\nreads_fresh,influxdb-a,DOWN,L4CON,0,\n');
  assert.deepEqual(serverView(rows, 'reads_fresh', 'influxdb-b'), { status: 'UP', check: 'L7OK', sessions: 2 });
  assert.deepEqual(serverView(rows, 'reads_fresh', 'influxdb-a'), { status: 'DOWN', check: 'L4CON', sessions: 0 });
  assert.equal(serverView(rows, 'writes', 'influxdb-a'), undefined);
});

test('the terminal table names a relay that does not answer and a database that is down', () => {
  const s: ClusterStatus = {
    at: '2026-01-01T00:00:00.000Z',
    haproxy: { from: '/run/haproxy.sock', ok: true },
    relays: [{ name: 'relay-2', url: 'http://127.0.0.1:9097', error: 'connect ECONNREFUSED', haproxy: { status: 'DOWN', check: 'L4CON', sessions: 0 } }],
    databases: [
      {
        name: 'influxdb-b',
        url: 'http://127.0.0.1:8087',
        pings: false,
        error: 'connect ECONNREFUSED',
        haproxyFresh: { status: 'DOWN', check: 'L7STS', sessions: 0 },
        relayStates: { 'relay-1': 'down' },
        backlogBytes: 3 * 1024 * 1024,
        backlogBatches: 12,
        oldestBatchAgeMs: 90_000,
        missedWindows: 1,
        quarantined: true,
      },
    ],
  };
  const text = renderClusterTable(s);
  assert.match(text, /relay-2\s+DOWN L4CON\s+NOT ANSWERING: connect ECONNREFUSED/);
  assert.match(text, /influxdb-b\s+DOWN: connect ECONNREFUSED\s+–\s+STALE, quarantined\s+down\s+3\.0 MiB \(12\)\s+90\.0 s\s+1/);
});
