/**
 * The cluster page served by `influx-relay status -cluster FILE --serve :PORT`: one self-contained HTML document
 * polling /cluster.json every 2 s, the same view as the terminal table (relays, databases, HAProxy's view of each).
 */
import { page } from '../admin/page-style.js';

const BODY = `
<h1>influx-relay cluster</h1>
<div class="sub" id="sub">loading…</div>
<div id="banner" class="banner unknown">waiting for the first answer</div>
<h2>Relays</h2>
<table id="relays"><thead><tr>
  <th>relay</th><th>HAProxy (writes)</th><th>relay says</th><th class="num">intake</th><th class="num">backlog</th>
  <th class="num">oldest</th><th>backends</th>
</tr></thead><tbody></tbody></table>
<h2>Databases</h2>
<table id="databases"><thead><tr>
  <th>database</th><th>ping</th><th>HAProxy (reads)</th><th>fresh for reads</th><th>relays say</th><th class="num">backlog</th>
  <th class="num">oldest</th><th class="num">missed windows</th><th class="num">delivered</th>
</tr></thead><tbody></tbody></table>
<p class="muted">Refreshes every 2 s from <a href="cluster.json">cluster.json</a>.</p>
`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
// "UP 1/2" and "DOWN 1/2" are on their way to the other state: amber.
const hapState = (st) => /^(UP|DOWN) \\d/.test(st) ? 'catching-up' : st.split(' ')[0];
const hap = (v) => v ? badge(hapState(v.status), v.status + (v.check ? ' · ' + v.check : '')) : badge('?', 'not in HAProxy');
const ORDER = ['down', 'catching-up', 'up'];
const worst = (states) => states.slice().sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))[0];
function relayRow(r) {
  const s = r.status;
  if (!s) return '<tr class="r-bad" data-relay="' + esc(r.name) + '" data-state="down"><td><b>' + esc(r.name) + '</b><div class="muted">' + esc(r.url) +
    '</div></td><td>' + hap(r.haproxy) + '</td><td>' + badge('down', 'not answering') + '<div class="err">' + esc(r.error) + '</div></td><td></td><td></td><td></td><td></td></tr>';
  const intake = s.listeners.reduce((n, l) => l.pointsPerSecond == null ? n : (n ?? 0) + l.pointsPerSecond, null);
  const state = s.acceptingWrites ? 'up' : 'down';
  const backends = s.backends.map((b) => badge(b.quarantined && b.state === 'up' ? 'quarantined' : b.state, b.name + ' ' + (b.quarantined ? 'quarantined' : b.state))).join(' ');
  return '<tr class="' + rowCls(state) + '" data-relay="' + esc(r.name) + '" data-state="' + state + '"><td><b>' + esc(r.name) + '</b><div class="muted"><a href="' + esc(r.url) + '/">' + esc(r.url) + '</a></div></td>' +
    '<td>' + hap(r.haproxy) + '</td><td>' + badge(state, s.acceptingWrites ? 'accepting' : 'refusing') + '<div class="muted">' + esc(s.message) + '</div></td>' +
    '<td class="num">' + rate(intake) + '</td><td class="num">' + bytes(s.backends.reduce((n, b) => n + b.queueBytes, 0)) + '</td>' +
    '<td class="num">' + age(Math.max(0, ...s.backends.map((b) => b.oldestBatchAgeMs))) + '</td><td>' + backends + '</td></tr>';
}
function databaseRow(d) {
  const states = Object.values(d.relayStates);
  const relaySays = states.length ? worst(states) : 'unknown';
  const fresh = d.haproxyFresh ? d.haproxyFresh.status.startsWith('UP') : null;
  const state = !d.pings || relaySays === 'down' ? 'down' : fresh === false || d.quarantined || relaySays !== 'up' ? 'catching-up' : 'up';
  const freshCell = d.quarantined ? badge('quarantined') : fresh === null ? badge('?', 'unknown') : fresh ? badge('fresh') : badge('stale');
  const per = Object.entries(d.relayStates).map(([r, st]) => esc(r) + ': ' + esc(st)).join(', ');
  return '<tr class="' + rowCls(state) + '" data-database="' + esc(d.name) + '" data-state="' + state + '"><td><b>' + esc(d.name) + '</b><div class="muted">' + esc(d.url) + '</div></td>' +
    '<td>' + (d.pings ? badge('up', 'ok') : badge('down', 'down') + '<div class="err">' + esc(d.error) + '</div>') + '</td>' +
    '<td>' + hap(d.haproxyAny) + '</td><td>' + freshCell + '</td><td>' + badge(relaySays) + '<div class="muted">' + per + '</div></td>' +
    '<td class="num">' + bytes(d.backlogBytes) + ' (' + d.backlogBatches + ')</td><td class="num">' + age(d.oldestBatchAgeMs) + '</td>' +
    '<td class="num">' + d.missedWindows + '</td><td class="num">' + rate(d.deliveredPerSecond) + '</td></tr>';
}
async function refresh() {
  try {
    const r = await fetch('cluster.json', { cache: 'no-store' });
    const s = await r.json();
    $('sub').textContent = s.at + ' · HAProxy ' + (s.haproxy.ok ? 'read from ' + s.haproxy.from : 'NOT READ from ' + s.haproxy.from + ': ' + (s.haproxy.error ?? ''));
    $('relays').tBodies[0].innerHTML = s.relays.map(relayRow).join('');
    $('databases').tBodies[0].innerHTML = s.databases.map(databaseRow).join('');
    const bad = document.querySelectorAll('tr.r-bad').length, warn = document.querySelectorAll('tr.r-warn').length;
    const b = $('banner');
    b.className = 'banner ' + (bad ? 'bad' : warn || !s.haproxy.ok ? 'warn' : 'ok');
    b.textContent = bad ? bad + ' component(s) down' : warn ? warn + ' component(s) catching up or quarantined' : !s.haproxy.ok ? "HAProxy's view is missing" : 'all relays and databases up and fresh';
  } catch (e) {
    const b = $('banner');
    b.className = 'banner bad';
    b.textContent = 'the status server does not answer: ' + e.message;
  }
}
refresh();
setInterval(refresh, 2000);
`;

export const CLUSTER_PAGE = page('influx-relay cluster', BODY, SCRIPT);
