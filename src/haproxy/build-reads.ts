/**
 * The read side: which InfluxDB servers may answer queries, and the freshness design that keeps a replica that
 * is catching up out of the read pool.
 *
 * Design (also in docs/cluster.md):
 * - `reads_any` holds every database, checked with GET /ping → 204. It is the fallback read pool and the source
 *   of truth for "this database answers".
 * - `relays_alive` holds every relay, checked with GET /health expecting 200 or 503: it counts relays that answer
 *   at all (a relay that refuses writes may still hold a backlog for a database).
 * - `fresh_<db>` (one per database) holds every relay, checked with GET /health/backends/<db> → 200. Its UP
 *   count is the number of relays that report <db> reachable with no backlog.
 * - The `freshness` frontend (127.0.0.1, never public) answers 200 for <db> when
 *   nbsrv(fresh_<db>) >= nbsrv(relays_alive), i.e. every relay that answers says <db> is caught up, and
 *   reads_any/<db> is up; otherwise 503.
 * - `reads_fresh` holds every database again, but each server's health check is sent to the freshness frontend
 *   (`addr 127.0.0.1 port <freshness.port>`, `http-check send-state` tells it which server asks). So a database
 *   is UP in reads_fresh exactly while it is fresh, and the configured balance and weights apply unchanged.
 * - Queries go to reads_fresh while it has a server up, else to reads_any: stale answers beat no answers when no
 *   replica is fresh (for instance every relay is down, or all databases are catching up).
 * It grows linearly: one check-only backend per database and one rule set per database in `freshness`.
 */
import type { Cluster } from './cluster.js';
import { formatHostPort } from './address.js';
import { acl, balance, bind, defaultServerCheck, directive, httpCheck, httpRequest, mode, option, section, server } from './model.js';
import type { Directive, Section } from './model.js';
import { NAMES, freshBackend } from './names.js';

function checks(c: Cluster): { inter: string; fall: number; rise: number } {
  return { inter: c.health.inter, fall: c.health.fall, rise: c.health.rise };
}

function databaseServers(c: Cluster, why: string): Directive[] {
  return c.databases.map((d) => server(d.name, formatHostPort(d.address), { weight: d.weight }, why));
}

function relayServers(c: Cluster, why: string): Directive[] {
  return c.relays.map((r) => server(r.name, formatHostPort(r.address), {}, why));
}

function readsAny(c: Cluster): Section {
  return section('backend', NAMES.readsAny, ['Every database that answers /ping: the fallback read pool, and what `freshness` asks about "up".'], [
    balance(c.balance.reads, 'balance.reads from the cluster file'),
    option('httpchk', 'check each database over HTTP, not just a TCP connect'),
    httpCheck('InfluxDB answers /ping without touching its storage', 'send', 'meth', 'GET', 'uri', '/ping'),
    httpCheck('a healthy InfluxDB 1.x answers /ping with 204 No Content', 'expect', 'status', '204'),
    defaultServerCheck(
      { ...checks(c), maxconn: c['server-maxconn'], shutdownSessionsOnDown: true },
      'health timings (health.*), server-maxconn; queries on a database marked down are cut, not left to time out',
    ),
    ...databaseServers(c, 'a database from the cluster file'),
  ]);
}

function relaysAlive(c: Cluster): Section {
  return section('backend', NAMES.relaysAlive, ['Check only, never used for traffic: counts the relays that answer at all.'], [
    option('httpchk', 'ask the relay itself, not just its port'),
    httpCheck('/health answers 200 (accepting writes) or 503 (not accepting): either way the relay is alive', 'send', 'meth', 'GET', 'uri', '/health'),
    httpCheck('an alive relay may still hold a backlog, so it must be counted even when it refuses writes', 'expect', 'status', '200,503'),
    defaultServerCheck(checks(c), 'health timings from the cluster file (health.*)'),
    ...relayServers(c, 'a relay from the cluster file'),
  ]);
}

function freshOf(c: Cluster, db: string): Section {
  return section('backend', freshBackend(db), [`Check only, never used for traffic: UP servers = relays reporting ${db} reachable with no backlog.`], [
    option('httpchk', `ask each relay about ${db}`),
    httpCheck('the relay answers 503 while the database is down or a backlog is being replayed to it', 'send', 'meth', 'GET', 'uri', `/health/backends/${db}`),
    httpCheck('only 200 means "caught up"', 'expect', 'status', '200'),
    defaultServerCheck(checks(c), 'health timings from the cluster file (health.*)'),
    ...relayServers(c, 'a relay from the cluster file'),
  ]);
}

function freshnessFrontend(c: Cluster): Section {
  const perDb = c.databases.flatMap((d) => {
    const asks = `asks_${d.name}`;
    const fresh = `fresh_${d.name}`;
    const up = `up_${d.name}`;
    return [
      acl(asks, ['req.hdr(x-haproxy-server-state)', '-m', 'sub', `name=${NAMES.readsFresh}/${d.name};`], `the health check of ${NAMES.readsFresh}/${d.name} (send-state names it)`),
      acl(asks, ['path', `/fresh/${d.name}`], 'the same question asked by a person with curl'),
      acl(fresh, [`nbsrv(${freshBackend(d.name)}),sub(txn.relays_alive)`, 'ge', '0'], `every relay that answers reports ${d.name} caught up`),
      acl(up, [`srv_is_up(${NAMES.readsAny}/${d.name})`], `${d.name} itself answers /ping`),
      httpRequest(['return', 'status', '200', 'content-type', 'text/plain', 'string', 'fresh'], ['if', asks, fresh, up], `${d.name} may serve reads`),
    ];
  });
  return section('frontend', NAMES.freshnessFrontend, [
    `Answers the health checks of ${NAMES.readsFresh}: 200 while a database is up and no relay replays a backlog to it.`,
    'Loopback only; read-only; GET /fresh/<database> shows the same answer to a person.',
  ], [
    mode('http', 'the checks are HTTP requests'),
    bind(`127.0.0.1:${c.freshness.port}`, {}, 'HAProxy checks itself here; nothing outside this host needs it'),
    httpRequest(['set-log-level', 'silent'], [], 'one check per database every health.inter would drown the log'),
    httpRequest(['set-var(txn.relays_alive)', `nbsrv(${NAMES.relaysAlive})`], [], 'compare each fresh_<db> count against the relays that answer'),
    ...perDb,
    httpRequest(['return', 'status', '503', 'content-type', 'text/plain', 'string', 'stale or down'], [], 'anything else: not fresh, or not a database we know'),
  ]);
}

function readsFresh(c: Cluster): Section {
  return section('backend', NAMES.readsFresh, ['Databases that are up and caught up; each check asks the `freshness` frontend.'], [
    balance(c.balance.reads, 'balance.reads from the cluster file'),
    option('httpchk', 'the check is an HTTP question to the freshness frontend'),
    httpCheck('freshness answers for the server named in the send-state header', 'send', 'meth', 'GET', 'uri', '/fresh'),
    httpCheck('tells the freshness frontend which database this check is about', 'send-state'),
    httpCheck('200 = up and caught up', 'expect', 'status', '200'),
    defaultServerCheck(
      { inter: c.health.inter, fall: 1, rise: 1, addr: '127.0.0.1', port: c.freshness.port, maxconn: c['server-maxconn'] },
      'the underlying checks already debounce (health.fall/rise), so follow their verdict at once; a stale database keeps its running queries',
    ),
    ...databaseServers(c, 'a database from the cluster file; traffic goes to it, checks go to freshness'),
  ]);
}

/** Backends (and the freshness frontend) of the read side, in render order. */
export function readSections(c: Cluster): Section[] {
  if (!c.freshness.enabled) return [readsAny(c)];
  return [readsFresh(c), readsAny(c), freshnessFrontend(c), relaysAlive(c), ...c.databases.map((d) => freshOf(c, d.name))];
}

/** use_backend lines for queries, in order. `isRead` is the ACL that matched a read request. */
export function readRouting(c: Cluster, isRead: string): Directive[] {
  const fallback = directive('everything else left is a read (other paths were answered above); any database that answers', 'default_backend', NAMES.readsAny);
  if (!c.freshness.enabled) return [fallback];
  return [
    directive(
      'reads go to caught-up databases while there is one',
      'use_backend', NAMES.readsFresh, 'if', isRead, '{', `nbsrv(${NAMES.readsFresh})`, 'ge', '1', '}',
    ),
    fallback,
  ];
}
