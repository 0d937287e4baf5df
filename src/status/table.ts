/** `influx-relay status -cluster FILE` in the terminal: the cluster view as two tables, relays and databases. */
import type { ClusterStatus, ServerView } from './cluster.js';
import { worstState } from './cluster.js';
import { formatAge, formatBytes, formatRate, table } from './format.js';

const server = (v: ServerView | undefined): string => (v === undefined ? '–' : `${v.status}${v.check ? ` ${v.check}` : ''}`);

export function renderClusterTable(s: ClusterStatus): string {
  const relays = table(
    ['RELAY', 'HAPROXY (writes)', 'RELAY SAYS', 'INTAKE', 'BACKLOG', 'OLDEST', 'BACKENDS'],
    s.relays.map((r) => {
      const st = r.status;
      if (st === undefined) return [r.name, server(r.haproxy), `NOT ANSWERING: ${r.error ?? ''}`, '–', '–', '–', ''];
      const intake = st.listeners.reduce<number | undefined>((n, l) => (l.pointsPerSecond === undefined ? n : (n ?? 0) + l.pointsPerSecond), undefined);
      return [
        r.name,
        server(r.haproxy),
        st.acceptingWrites ? 'accepting writes' : 'REFUSING WRITES',
        formatRate(intake),
        formatBytes(st.backends.reduce((n, b) => n + b.queueBytes, 0)),
        formatAge(Math.max(0, ...st.backends.map((b) => b.oldestBatchAgeMs))),
        st.backends.map((b) => `${b.name} ${b.state}${b.quarantined ? ' (quarantined)' : ''}`).join(', '),
      ];
    }),
  );
  const databases = table(
    ['DATABASE', 'PING', 'HAPROXY (reads)', 'FRESH', 'RELAYS SAY', 'BACKLOG', 'OLDEST', 'MISSED', 'DELIVERED'],
    s.databases.map((d) => {
      const states = Object.values(d.relayStates);
      const fresh = d.haproxyFresh === undefined ? '–' : d.haproxyFresh.status.startsWith('UP') ? 'fresh' : 'STALE';
      return [
        d.name,
        d.pings ? 'ok' : `DOWN: ${d.error ?? ''}`,
        server(d.haproxyAny),
        d.quarantined ? `${fresh}, quarantined` : fresh,
        states.length === 0 ? '–' : (worstState(states) ?? '–'),
        `${formatBytes(d.backlogBytes)} (${d.backlogBatches})`,
        formatAge(d.oldestBatchAgeMs),
        String(d.missedWindows),
        formatRate(d.deliveredPerSecond),
      ];
    }),
  );
  const hap = s.haproxy.ok ? `HAProxy: ${s.haproxy.from}` : `HAProxy: NOT READ (${s.haproxy.from}): ${s.haproxy.error ?? ''}`;
  return `${s.at}  ${hap}\n\n${relays}\n\n${databases}\n`;
}
