/**
 * Cluster → HaproxyConfig. Writes go to the relays (each mirrors to every InfluxDB); reads go to the InfluxDB
 * servers themselves (see build-reads.ts for how a replica that is catching up is kept out); /ping is answered
 * by HAProxy so load balancer and client health probes never wake a database.
 */
import type { Cluster, Relay, StreamKind } from './cluster.js';
import type { HostPort } from './address.js';
import { formatHostPort } from './address.js';
import { readRouting, readSections } from './build-reads.js';
import {
  acl, balance, bind, defaultServerCheck, directive, httpCheck, httpError, httpRequest, mode, option, section, server, timeout, useBackend,
} from './model.js';
import type { Directive, HaproxyConfig, Section } from './model.js';
import { NAMES } from './names.js';

/**
 * Which /query requests go to the relays (which apply a statement that changes state to every database, in order with
 * the writes, and pass a plain read on to a fresh database) rather than to one database. A regex cannot lex InfluxQL
 * (a regex literal /'/ opens no string, a comment can hide where a statement starts), so this side only has to be
 * conservative: a false positive costs one hop through a relay, a false negative would change one replica only.
 * A query goes to the relays when, anywhere in its query string or body, percent-decoded:
 * - a keyword that can start or be part of such a statement appears as a word, quoted or not (so
 *   `WHERE host = 'into'` goes to a relay too, which answers it from a database);
 * - a comment (-- or /*) appears;
 * - there is a character influxd's Go folds into one of those keywords' letters (U+0130 İ → i, U+212A Kelvin → k):
 *   `İNTO` is INTO to influxd, not to a case-insensitive byte regex;
 * or it cannot be decoded (a % not followed by two hex digits makes url_dec fail, where Go skips just that
 * parameter; %00 may end a match early), or its body cannot be read whole: multipart, compressed, chunked, not all
 * in the buffer in time.
 */
const UNDECODABLE = '%(?![0-9a-f]{2})|%00';
const KEYWORDS = '\\b(?:create|drop|alter|grant|revoke|set|delete|into)\\b|--|/\\*|\\xc4\\xb0|\\xe2\\x84\\xaa';

function jsonError(status: number, message: string): string[] {
  return ['return', 'status', String(status), 'content-type', 'application/json', 'string', JSON.stringify({ error: message })];
}

/** Seconds a client is told to wait (Retry-After) when HAProxy has no server for it: a few health-check rounds. */
const RETRY_AFTER = '5';

function globalSection(c: Cluster): Section {
  const tls = c.http.tlsCert === undefined ? [] : [
    directive('TLS 1.0/1.1 are broken; every maintained InfluxDB client speaks 1.2', 'ssl-default-bind-options', 'ssl-min-ver', 'TLSv1.2'),
  ];
  return section('global', undefined, [], [
    directive('log to stdout: containers and systemd collect it, no syslog daemon needed', 'log', 'stdout', 'format', 'raw', 'local0'),
    directive('maxconn from the cluster file: the process-wide connection cap', 'maxconn', String(c.maxconn)),
    directive('an old process left after a reload must not linger forever with idle keep-alive clients', 'hard-stop-after', '30s'),
    ...(c.stats.socket === undefined ? [] : [
      directive('stats.socket: the runtime API, e.g. to drain a relay before restarting it (owner only)', 'stats', 'socket', c.stats.socket, 'mode', '600', 'level', 'admin'),
    ]),
    ...tls,
  ]);
}

function defaultsSection(c: Cluster): Section {
  const t = c.timeouts;
  return section('defaults', undefined, [], [
    mode('http', 'InfluxDB speaks HTTP; the raw-TCP frontend overrides this'),
    directive('use the global log target', 'log', 'global'),
    option('httplog', 'log method, path, status and timings per request'),
    option('dontlognull', 'port probes without a request are noise'),
    option('http-keep-alive', 'collectors write in a loop: reuse connections both ways'),
    timeout('connect', t.connect, 'timeouts.connect: a relay or database that does not accept within this is skipped'),
    timeout('client', t.client, 'timeouts.client: idle client side'),
    timeout('server', t.server, 'timeouts.server: longest wait for a relay or database to answer (long queries count)'),
    timeout('http-request', t.httpRequest, 'timeouts.http-request: slow-header clients must not hold connections'),
    timeout('http-keep-alive', t.httpKeepAlive, 'timeouts.http-keep-alive: idle time between requests on one connection'),
    timeout('check', t.check, 'timeouts.check: a hung server fails its check in this long, so fall x inter holds'),
    directive('retry a failed connect: nothing was sent yet, so no write is duplicated', 'retries', '3'),
    option('redispatch', 'retry the connect on another server rather than the one that failed', '1'),
    directive('per-proxy connection cap, same as global (maxconn)', 'maxconn', String(c.maxconn)),
    ...errorAnswers(),
    ...(c.dns.nameservers.length > 0
      ? [
          directive(
            'dns.nameservers: start even if a name does not resolve yet (containers start in any order), and keep resolving at run time',
            'default-server',
            'init-addr',
            'last,libc,none',
            'resolvers',
            'dns',
          ),
        ]
      : []),
  ]);
}

/** Run-time name resolution (e.g. Docker's DNS at 127.0.0.11:53), only when the cluster names nameservers. */
function resolversSections(c: Cluster): Section[] {
  if (c.dns.nameservers.length === 0) return [];
  return [
    section('resolvers', 'dns', ['Name servers for relay and database names that change or appear after HAProxy starts.'], [
      ...c.dns.nameservers.map((ns, i) => directive('dns.nameservers: asked in turn', 'nameserver', `ns${i + 1}`, `${ns.host}:${ns.port}`)),
      directive('a resolved address stays valid this long between lookups', 'hold', 'valid', '10s'),
      directive('names may be long lists of addresses', 'accepted_payload_size', '8192'),
    ]),
  ];
}

/**
 * HAProxy's own error answers in InfluxDB's shape (JSON `{"error": ...}`), not its HTML pages: clients parse the
 * body. 503 (no server) carries Retry-After. 401 is left alone: the stats page needs its WWW-Authenticate.
 */
function errorAnswers(): Directive[] {
  const errors: readonly [number, string][] = [
    [400, 'bad request'],
    [403, 'forbidden'],
    [408, 'timeout reading the request'],
    [500, 'internal error in the load balancer'],
    [502, 'invalid answer from the relay or database'],
    [504, 'no answer from the relay or database in time'],
  ];
  return [
    ...errors.map(([status, message]) => httpError(status, message, [], `InfluxDB-shaped ${status}: a JSON error, not an HTML page`)),
    httpError(503, 'no relay or database is available', [['Retry-After', RETRY_AFTER]], 'no server up: say so in JSON, and when to retry'),
  ];
}

/** /ping is answered here, 204 while some relay can take writes (HAProxy's checks say so), 503 while none can. */
function pingRules(c: Cluster): Directive[] {
  const hdrs = ['hdr', 'X-Influxdb-Version', c.http.pingVersion, 'hdr', 'X-Influxdb-Build', 'OSS'];
  const verbose = ['return', 'status', '200', 'content-type', 'application/json', 'string', JSON.stringify({ version: c.http.pingVersion }), ...hdrs];
  const down = [...jsonError(503, 'no relay can take writes'), 'hdr', 'Retry-After', RETRY_AFTER, ...hdrs];
  return [
    acl('is_ping', ['path', '/ping'], 'InfluxDB liveness probe'),
    acl('ping_verbose', ['url_param(verbose)', '-m', 'found'], 'InfluxDB answers ?verbose=true with 200 and a JSON version'),
    acl('ping_terse', ['url_param(verbose)', '-m', 'str', '0', 'false'], 'verbose=0 and verbose=false mean not verbose'),
    acl('writable', [`nbsrv(${NAMES.writes})`, 'ge', '1'], 'some relay passes its health check, so a write can be taken'),
    httpRequest(jsonError(405, 'method not allowed'), ['if', 'is_ping', '!METH_GET'], '/ping takes GET and HEAD only'),
    httpRequest(down, ['if', 'is_ping', '!writable'], 'a probe must learn that writes cannot be served: no relay is up'),
    httpRequest(verbose, ['if', 'is_ping', 'ping_verbose', '!ping_terse'], 'answer verbose pings here, like InfluxDB would'),
    httpRequest(['return', 'status', '204', ...hdrs], ['if', 'is_ping'], 'answer GET/HEAD /ping here: probes must not wake a database (http.ping-version)'),
  ];
}

function statementRules(c: Cluster): Directive[] {
  if (!c.http.routeStatements) return [];
  return [
    acl('is_influxql', ['path', '/query'], 'InfluxQL, which may hold statements that change data or schema'),
    httpRequest(['wait-for-body', 'time', '1s'], ['if', 'is_influxql', 'METH_POST'], 'POSTed queries carry q= in the body; read it before routing (http.route-statements)'),
    httpRequest(['set-var(txn.body_size)', 'req.body_size'], ['if', 'is_influxql', 'METH_POST'], 'Content-Length, to compare with what was read'),
    acl('body_unreadable', ['req.hdr(content-type)', '-m', 'beg', '-i', 'multipart/'], 'InfluxDB reads q from multipart parts too; HAProxy does not parse them'),
    acl('body_unreadable', ['req.hdr(content-encoding)', '-m', 'found'], 'a compressed body cannot be read here'),
    acl('body_unreadable', ['req.hdr(transfer-encoding)', '-m', 'found'], 'a chunked body\'s whole length is unknown, so a q past the buffer could hide'),
    acl('body_unreadable', ['req.body_len,sub(txn.body_size)', 'lt', '0'], 'the body did not fit in the buffer or came too slowly: part of it is unread'),
    acl('may_change_state', ['query,url_dec(1)', '-m', 'reg', '-i', KEYWORDS], 'a keyword, comment or folding character anywhere in the query string, q or not'),
    acl('may_change_state', ['req.body,url_dec(1)', '-m', 'reg', '-i', KEYWORDS], 'the same anywhere in the body'),
    acl('may_change_state', ['query', '-m', 'reg', '-i', UNDECODABLE], 'a query string url_dec would fail on (the rules above would not match)'),
    acl('may_change_state', ['req.body', '-m', 'reg', '-i', UNDECODABLE], 'the same in the body'),
    useBackend(NAMES.relayQueries, ['is_influxql', 'METH_POST', 'body_unreadable'], 'what cannot be read here is read by a relay'),
    useBackend(NAMES.relayQueries, ['is_influxql', 'may_change_state'], 'a relay applies a statement to every database, in order with the writes'),
  ];
}

/** The relays again, for queries: same servers and health as `writes`, but a query may run as long as reads do. */
function relayQueriesBackend(c: Cluster): Section[] {
  if (!c.http.routeStatements) return [];
  return [
    section('backend', NAMES.relayQueries, ['Queries that might change state: a relay sends statements to every database and passes reads on to one.'], [
      balance(c.balance.writes, 'balance.writes from the cluster file'),
      timeout('server', c.timeouts.server, 'timeouts.server: a read that was routed here by caution may run as long as any read'),
      ...c.relays.map((r) => server(r.name, formatHostPort(r.address), { track: `${NAMES.writes}/${r.name}`, shutdownSessionsOnDown: true }, 'follows the same relay in `writes`')),
    ]),
  ];
}

function httpFrontend(c: Cluster): Section {
  const tls = c.http.tlsCert !== undefined;
  const apiPut = c.relays.some((r) => r.opentsdbAddress);
  return section('frontend', NAMES.httpFrontend, ['The public InfluxDB-compatible endpoint: writes to the relays, reads to the databases.'], [
    bind(formatHostPort(c.http.bind), { tlsCert: c.http.tlsCert }, tls ? 'http.bind with TLS from http.tls-cert' : 'http.bind: where collectors and readers connect'),
    option('forwardfor', 'relays and databases see the client address in X-Forwarded-For'),
    ...(tls ? [httpRequest(['set-header', 'X-Forwarded-Proto', 'https'], [], 'TLS ends here; tell the servers the client used https')] : []),
    acl('is_write', ['path', '/write', '/api/v2/write'], 'InfluxDB 1.x and 2.x write endpoints'),
    acl('is_read', ['path', '/query', '/api/v2/query'], 'InfluxQL and Flux read endpoints'),
    ...(apiPut ? [acl('is_api_put', ['path', '/api/put'], 'OpenTSDB\'s HTTP write endpoint (Netdata\'s opentsdb:http connector)')] : []),
    ...pingRules(c),
    httpRequest(jsonError(405, 'method not allowed'), ['if', 'is_write', '!METH_POST'], 'writes are POST only, as in InfluxDB'),
    httpRequest(jsonError(405, 'method not allowed'), ['if', 'is_read', '!METH_GET', '!METH_POST'], 'queries are GET or POST, as in InfluxDB'),
    httpRequest(jsonError(404, 'not found'), ['unless', 'is_write', '||', 'is_read', ...(apiPut ? ['||', 'is_api_put'] : [])], 'no other endpoint is balanced: debug and admin paths belong to one server'),
    ...statementRules(c),
    useBackend(NAMES.writes, ['is_write'], 'every write goes through a relay, which mirrors it to every database'),
    ...(apiPut ? [useBackend(NAMES.writesApiPut, ['is_api_put'], 'an OpenTSDB write goes to a relay\'s [[opentsdb]] port, which answers it (any method) as InfluxDB does and mirrors it')] : []),
    ...readRouting(c, 'is_read'),
  ]);
}

function writesBackend(c: Cluster): Section {
  return section('backend', NAMES.writes, ['The relays: each one mirrors every write to every database.'], [
    balance(c.balance.writes, 'balance.writes from the cluster file'),
    timeout('server', c.timeouts.writeServer, 'timeouts.write-server: a relay answers a write within its answer-timeout (2s); past this it is hung'),
    option('httpchk', 'check each relay over HTTP, not just a TCP connect'),
    httpCheck('a relay answers /health with 503 when it cannot accept writes', 'send', 'meth', 'GET', 'uri', '/health'),
    httpCheck('only 200 keeps a relay in the write pool', 'expect', 'status', '200'),
    defaultServerCheck(
      { inter: c.health.inter, fall: c.health.fall, rise: c.health.rise, maxconn: c['server-maxconn'], shutdownSessionsOnDown: true },
      'health timings (health.*), server-maxconn; a relay marked down has its requests cut so clients retry on another',
    ),
    ...c.relays.map((r) => server(r.name, formatHostPort(r.address), {}, 'a relay\'s HTTP listener from the cluster file')),
  ]);
}

/** What differs between the TCP frontends: names, the relay listener they balance over, and their comments. */
interface StreamSpec {
  readonly frontend: string;
  readonly backend: string;
  readonly target: (r: Relay) => HostPort | undefined;
  readonly what: string;
  readonly senders: string;
  readonly listener: string;
}

const STREAM_SPECS: Record<StreamKind, StreamSpec> = {
  tcp: {
    frontend: NAMES.tcpFrontend, backend: NAMES.writesTcp, target: (r) => r.tcpAddress,
    what: 'Raw line protocol over TCP (one point per line)', senders: 'TCP line-protocol senders', listener: 'TCP listeners',
  },
  opentsdb: {
    frontend: NAMES.opentsdbFrontend, backend: NAMES.writesOpentsdb, target: (r) => r.opentsdbAddress,
    what: 'OpenTSDB telnet `put` lines (Netdata\'s `opentsdb` connector)', senders: 'OpenTSDB telnet senders', listener: '[[opentsdb]] listeners',
  },
  graphite: {
    frontend: NAMES.graphiteFrontend, backend: NAMES.writesGraphite, target: (r) => r.graphiteAddress,
    what: 'Graphite plaintext over TCP (Netdata\'s `graphite` connector)', senders: 'Graphite senders', listener: '[[graphite]] listeners',
  },
};

/** A TCP frontend and its backend of relay listeners, each server following the same relay's health in `writes`. */
function streamSections(c: Cluster, kind: StreamKind): Section[] {
  const bindAt = c[kind].bind;
  if (bindAt === undefined) return [];
  const spec = STREAM_SPECS[kind];
  return [
    section('frontend', spec.frontend, [`${spec.what}, balanced per connection across the relays.`], [
      mode('tcp', 'a byte stream, not HTTP'),
      bind(formatHostPort(bindAt), {}, `${kind}.bind: where ${spec.senders} connect`),
      option('tcplog', 'per-connection log line'),
      timeout('client', c[kind].idleTimeout, `${kind}.idle-timeout: senders keep a connection open and write now and then`),
      directive(`every connection goes to one of the relays' ${spec.listener}`, 'default_backend', spec.backend),
    ]),
    section('backend', spec.backend, [`The relays' ${spec.listener}; each follows the health of the same relay in \`writes\`.`], [
      mode('tcp', 'a byte stream, not HTTP'),
      balance(c.balance.writes, 'balance.writes from the cluster file'),
      timeout('server', c[kind].idleTimeout, `${kind}.idle-timeout: the relay does not answer these lines, so the server side is idle too`),
      ...c.relays.flatMap((r) => {
        const at = spec.target(r);
        return at === undefined ? [] : [
          server(
            r.name, formatHostPort(at), { track: `${NAMES.writes}/${r.name}`, shutdownSessionsOnDown: true },
            'a relay that refuses HTTP writes (/health 503) must not take these either; its senders reconnect to another',
          ),
        ];
      }),
    ]),
  ];
}

/** OpenTSDB's HTTP `POST /api/put` on the HTTP frontend: the relays' [[opentsdb]] ports serve it. */
function apiPutBackend(c: Cluster): Section[] {
  if (!c.relays.some((r) => r.opentsdbAddress)) return [];
  return [
    section('backend', NAMES.writesApiPut, ['OpenTSDB /api/put (Netdata\'s `opentsdb:http` connector): the relays\' [[opentsdb]] ports, which answer it as InfluxDB does.'], [
      balance(c.balance.writes, 'balance.writes from the cluster file'),
      timeout('server', c.timeouts.writeServer, 'timeouts.write-server: as for /write'),
      ...c.relays.flatMap((r) => (r.opentsdbAddress === undefined ? [] : [
        server(r.name, formatHostPort(r.opentsdbAddress), { track: `${NAMES.writes}/${r.name}`, shutdownSessionsOnDown: true }, 'follows the same relay in `writes`'),
      ])),
    ]),
  ];
}

function statsSections(c: Cluster): Section[] {
  const s = c.stats;
  const password = s.password ?? (s['password-env'] === undefined ? undefined : { env: s['password-env'] });
  if (!s.enabled || password === undefined) return [];
  const prometheus = s.prometheus
    ? [httpRequest(['use-service', 'prometheus-exporter'], ['if', '{', 'path', '/metrics', '}'], 'stats.prometheus: HAProxy\'s own exporter (needs a build with PROMEX, see haproxy -vv)')]
    : [];
  return [
    section('frontend', NAMES.statsFrontend, ['HAProxy\'s status page: which relays and databases are up, and which databases are fresh (fresh_<db>).'], [
      bind(formatHostPort(s.bind), {}, 'stats.bind'),
      httpRequest(['auth', 'realm', 'influx-relay'], ['unless', '{', `http_auth(${NAMES.statsUsers})`, '}'], 'the page shows the topology: credentials first (stats.user, stats.password)'),
      ...prometheus,
      directive('serve the HTML/CSV status page', 'stats', 'enable'),
      directive('stats.uri', 'stats', 'uri', s.uri),
      directive('refresh the page while a person watches a failover', 'stats', 'refresh', '10s'),
    ]),
    section('userlist', NAMES.statsUsers, [], [
      directive('stats.user and stats.password (or the variable named by stats.password-env)', 'user', s.user, 'insecure-password', password),
    ]),
  ];
}

function design(c: Cluster): string[] {
  const routing = [
    'Routing: POST /write and /api/v2/write -> backend writes (the relays, checked on GET /health);',
    ...(c.relays.some((r) => r.opentsdbAddress) ? ['POST /api/put -> backend writes_api_put (the relays\' [[opentsdb]] ports, following their health in writes);'] : []),
    ...(c.http.routeStatements ? ['/query that might change state (a keyword, a comment, an unreadable body) -> backend relay_queries (the relays);'] : []),
  ];
  if (!c.freshness.enabled) {
    return [
      ...routing,
      '/query and /api/v2/query -> backend reads_any (every database that answers /ping; freshness is off);',
      'GET/HEAD /ping is answered here: 204 while some relay takes writes, else 503; anything else gets 404.',
      'See docs/cluster.md.',
    ];
  }
  return [
    ...routing,
    '/query and /api/v2/query -> backend reads_fresh (databases that are up and caught up), else reads_any;',
    'GET/HEAD /ping is answered here: 204 while some relay takes writes, else 503; anything else gets 404.',
    'Freshness: every relay reports each database on GET /health/backends/<db> (200 = no backlog).',
    'fresh_<db> counts the relays that say so, relays_alive counts the relays that answer at all;',
    'the freshness frontend compares the two for each database, and reads_fresh checks each server there.',
    'See docs/cluster.md for the whole design and its limits.',
  ];
}

export function buildConfig(c: Cluster): HaproxyConfig {
  const env = c.stats.enabled && c.stats['password-env'] !== undefined ? [c.stats['password-env']] : [];
  return {
    notes: design(c),
    requiredEnv: env,
    sections: [
      globalSection(c),
      ...resolversSections(c),
      defaultsSection(c),
      httpFrontend(c),
      writesBackend(c),
      ...relayQueriesBackend(c),
      ...readSections(c),
      ...apiPutBackend(c),
      ...streamSections(c, 'tcp'),
      ...streamSections(c, 'opentsdb'),
      ...streamSections(c, 'graphite'),
      ...statsSections(c),
    ],
  };
}
