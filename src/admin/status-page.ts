/**
 * GET / on every HTTP listener: the relay's status page, one self-contained HTML document that polls
 * /status.json every 1.5 s and redraws. Static text: everything it shows comes from /status.json (see status.ts).
 */
import { page } from './page-style.js';

const BODY = `
<h1>influx-relay <span id="listener" class="muted"></span></h1>
<div class="sub" id="sub">loading…</div>
<div id="banner" class="banner unknown">waiting for the first answer</div>
<h2>Backends</h2>
<table id="backends"><thead><tr>
  <th>backend</th><th>state</th><th>reads</th><th class="num">backlog</th><th class="num">batches</th><th class="num">oldest</th>
  <th class="num">in flight</th><th class="num">delivered</th><th class="num">errors</th><th class="num">dropped</th>
  <th class="num">missed windows</th><th>last error</th>
</tr></thead><tbody></tbody></table>
<h2>Intake</h2>
<table id="listeners"><thead><tr><th>listener</th><th class="num">points</th><th class="num">total</th></tr></thead><tbody></tbody></table>
<p class="muted">Refreshes every 1.5 s from <a href="status.json">status.json</a>; also <a href="health">/health</a>, <a href="metrics">/metrics</a>.</p>
`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
function backendRow(b) {
  const reads = b.quarantined ? badge('quarantined') : b.fresh ? badge('fresh') : badge('stale', 'not fresh');
  const backlog = bytes(b.queueBytes) + ' / ' + bytes(b.queueCapacityBytes);
  const err = b.lastError ? esc(b.lastError.at.slice(11, 19) + ' ' + b.lastError.message) : '';
  const row = b.state === 'up' && b.quarantined ? rowCls('quarantined') : rowCls(b.state);
  return '<tr class="' + row + '" data-backend="' + esc(b.name) + '" data-state="' + esc(b.state) + '">' +
    '<td><b>' + esc(b.name) + '</b><div class="muted">' + esc(b.location) + '</div></td>' +
    '<td>' + badge(b.state) + '</td><td>' + reads + '</td>' +
    '<td class="num">' + backlog + '</td><td class="num">' + b.queueBatches + '</td><td class="num">' + age(b.oldestBatchAgeMs) + '</td>' +
    '<td class="num">' + b.inFlight + '</td><td class="num">' + rate(b.deliveredPerSecond) + '</td>' +
    '<td class="num">' + rate(b.errorsPerSecond) + '</td><td class="num">' + b.droppedPoints + '</td>' +
    '<td class="num">' + (b.missedWindows ?? '–') + '</td><td class="err">' + err + '</td></tr>';
}
async function refresh() {
  try {
    const r = await fetch('status.json', { cache: 'no-store' });
    const s = await r.json();
    $('listener').textContent = s.version + ' · listener ' + s.listener;
    $('sub').textContent = 'pid ' + s.pid + ' · up ' + age(s.uptimeSeconds * 1000) + ' · ' + s.at +
      (s.spool ? ' · spool disk ' + (s.spool.ok ? 'ok' : 'REFUSING WRITES') : ' · memory queues');
    const b = $('banner');
    const down = s.backends.filter((x) => x.state !== 'up');
    b.className = 'banner ' + (!s.acceptingWrites ? 'bad' : down.length ? 'warn' : 'ok');
    b.textContent = (s.acceptingWrites ? 'accepting writes: ' : 'NOT accepting writes: ') + s.message;
    $('backends').tBodies[0].innerHTML = s.backends.map(backendRow).join('');
    $('listeners').tBodies[0].innerHTML = s.listeners.map((l) =>
      '<tr data-listener="' + esc(l.name) + '"><td>' + esc(l.name) + '</td><td class="num">' + rate(l.pointsPerSecond) +
      '</td><td class="num">' + l.receivedPoints.toLocaleString('en') + '</td></tr>').join('');
  } catch (e) {
    const b = $('banner');
    b.className = 'banner bad';
    b.textContent = 'the relay does not answer: ' + e.message;
  }
}
refresh();
setInterval(refresh, 1500);
`;

export const STATUS_PAGE = page('influx-relay status', BODY, SCRIPT);
