/**
 * Cluster → HaproxyConfig. Writes go to the relays (each mirrors to every InfluxDB); reads go to the InfluxDB
 * servers themselves (see build-reads.ts for how a replica that is catching up is kept out); /ping is answered
 * by HAProxy so load balancer and client health probes never wake a database.
 */
import type { Cluster } from './cluster.js';
import { formatHostPort } from './address.js';
import { readRouting, readSections } from './build-reads.js';
import {
  acl, balance, bind, defaultServerCheck, directive, httpCheck, httpRequest, mode, option, section, server, timeout, useBackend,
} from './model.js';
import type { Directive, HaproxyConfig, Section } from './model.js';
import { NAMES } from './names.js';

/**
 * InfluxQL that changes data or schema: on one replica only it would split the replicas apart. A statement starts
 * the query or follows a ';'; '+' counts as a space because url_dec leaves form-encoded spaces as '+'.
 */
const MUTATION = '(^|;)[\\s+]*(create|drop|alter|grant|revoke|set|delete|kill)\\b|\\binto\\b';

function jsonError(status: number, message: string): string[] {
  return ['return', 'status', String(status), 'content-type', 'application/json', 'string', JSON.stringify({ error: message })];
}

function globalSection(c: Cluster): Section {
  const tls = c.http.tlsCert === undefined ? [] : [
    directive('TLS 1.0/1.1 are broken; every maintained InfluxDB client speaks 1.2', 'ssl-default-bind-options', 'ssl-min-ver', 'TLSv1.2'),
  ];
  return section('global', undefined, [], [
    directive('log to stdout: containers and systemd collect it, no syslog daemon needed', 'log', 'stdout', 'format', 'raw', 'local0'),
    directive('maxconn from the cluster file: the process-wide connection cap', 'maxconn', String(c.maxconn)),
    directive('an old process left after a reload must not linger forever with idle keep-alive clients', 'hard-stop-after', '30s'),
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
    directive('retry a failed connect: nothing was sent yet, so no write is duplicated', 'retries', '3'),
    option('redispatch', 'retry the connect on another server rather than the one that failed', '1'),
    directive('per-proxy connection cap, same as global (maxconn)', 'maxconn', String(c.maxconn)),
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

function pingRules(c: Cluster): Directive[] {
  const hdrs = ['hdr', 'X-Influxdb-Version', c.http.pingVersion, 'hdr', 'X-Influxdb-Build', 'OSS'];
  const verbose = ['return', 'status', '200', 'content-type', 'application/json', 'string', JSON.stringify({ version: c.http.pingVersion }), ...hdrs];
  return [
    acl('is_ping', ['path', '/ping'], 'InfluxDB liveness probe'),
    acl('ping_verbose', ['url_param(verbose)', '-m', 'found'], 'InfluxDB answers ?verbose=true with 200 and a JSON version'),
    acl('ping_terse', ['url_param(verbose)', '-m', 'str', '0', 'false'], 'verbose=0 and verbose=false mean not verbose'),
    httpRequest(verbose, ['if', 'is_ping', 'METH_GET', 'ping_verbose', '!ping_terse'], 'answer verbose pings here, like InfluxDB would'),
    httpRequest(['return', 'status', '204', ...hdrs], ['if', 'is_ping', 'METH_GET'], 'answer GET/HEAD /ping here: probes must not wake a database (http.ping-version)'),
    httpRequest(jsonError(405, 'method not allowed'), ['if', 'is_ping'], '/ping takes GET and HEAD only'),
  ];
}

function mutationRules(c: Cluster): Directive[] {
  if (!c.http.blockMutations) return [];
  const message = 'statements that change data or schema must be run against every InfluxDB, not through the read balancer';
  return [
    httpRequest(['wait-for-body', 'time', '1s'], ['if', 'is_read', 'METH_POST'], 'POSTed queries carry q= in the body; read it before routing (http.block-mutations)'),
    acl('is_mutation', ['url_param(q),url_dec(1)', '-m', 'reg', '-i', MUTATION], 'CREATE, DROP, DELETE, ... or SELECT INTO in the query string'),
    acl('is_mutation', ['req.body_param(q),url_dec(1)', '-m', 'reg', '-i', MUTATION], 'the same in a form-encoded POST body'),
    httpRequest(jsonError(403, message), ['if', 'is_read', 'is_mutation'], 'a read balancer would apply it to one replica only'),
  ];
}

function httpFrontend(c: Cluster): Section {
  const tls = c.http.tlsCert !== undefined;
  return section('frontend', NAMES.httpFrontend, ['The public InfluxDB-compatible endpoint: writes to the relays, reads to the databases.'], [
    bind(formatHostPort(c.http.bind), { tlsCert: c.http.tlsCert }, tls ? 'http.bind with TLS from http.tls-cert' : 'http.bind: where collectors and readers connect'),
    option('forwardfor', 'relays and databases see the client address in X-Forwarded-For'),
    ...(tls ? [httpRequest(['set-header', 'X-Forwarded-Proto', 'https'], [], 'TLS ends here; tell the servers the client used https')] : []),
    acl('is_write', ['path', '/write', '/api/v2/write'], 'InfluxDB 1.x and 2.x write endpoints'),
    acl('is_read', ['path', '/query', '/api/v2/query'], 'InfluxQL and Flux read endpoints'),
    ...pingRules(c),
    httpRequest(jsonError(405, 'method not allowed'), ['if', 'is_write', '!METH_POST'], 'writes are POST only, as in InfluxDB'),
    httpRequest(jsonError(405, 'method not allowed'), ['if', 'is_read', '!METH_GET', '!METH_POST'], 'queries are GET or POST, as in InfluxDB'),
    httpRequest(jsonError(404, 'not found'), ['unless', 'is_write', '||', 'is_read'], 'no other endpoint is balanced: debug and admin paths belong to one server'),
    ...mutationRules(c),
    useBackend(NAMES.writes, ['is_write'], 'every write goes through a relay, which mirrors it to every database'),
    ...readRouting(c, 'is_read'),
  ]);
}

function writesBackend(c: Cluster): Section {
  return section('backend', NAMES.writes, ['The relays: each one mirrors every write to every database.'], [
    balance(c.balance.writes, 'balance.writes from the cluster file'),
    option('httpchk', 'check each relay over HTTP, not just a TCP connect'),
    httpCheck('a relay answers /health with 503 when it cannot accept writes', 'send', 'meth', 'GET', 'uri', '/health'),
    httpCheck('only 200 keeps a relay in the write pool', 'expect', 'status', '200'),
    defaultServerCheck({ inter: c.health.inter, fall: c.health.fall, rise: c.health.rise }, 'health timings from the cluster file (health.*)'),
    ...c.relays.map((r) => server(r.name, formatHostPort(r.address), {}, 'a relay\'s HTTP listener from the cluster file')),
  ]);
}

function tcpSections(c: Cluster): Section[] {
  const bindAt = c.tcp.bind;
  if (bindAt === undefined) return [];
  return [
    section('frontend', NAMES.tcpFrontend, ['Raw line protocol over TCP (one point per line), balanced per connection across the relays.'], [
      mode('tcp', 'a byte stream, not HTTP'),
      bind(formatHostPort(bindAt), {}, 'tcp.bind: where TCP line-protocol senders connect'),
      option('tcplog', 'per-connection log line'),
      timeout('client', c.tcp.idleTimeout, 'tcp.idle-timeout: senders keep a connection open and write now and then'),
      directive('every connection goes to a relay\'s TCP listener', 'default_backend', NAMES.writesTcp),
    ]),
    section('backend', NAMES.writesTcp, ['The relays\' TCP listeners; each follows the health of the same relay in `writes`.'], [
      mode('tcp', 'a byte stream, not HTTP'),
      balance(c.balance.writes, 'balance.writes from the cluster file'),
      timeout('server', c.tcp.idleTimeout, 'tcp.idle-timeout: the relay does not answer line protocol, so the server side is idle too'),
      ...c.relays.flatMap((r) => (r.tcpAddress === undefined ? [] : [
        server(r.name, formatHostPort(r.tcpAddress), { track: `${NAMES.writes}/${r.name}` }, 'a relay that refuses HTTP writes (/health 503) must not take TCP ones either'),
      ])),
    ]),
  ];
}

function statsSections(c: Cluster): Section[] {
  const s = c.stats;
  if (!s.enabled || s.password === undefined) return [];
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
      directive('stats.user and stats.password from the cluster file', 'user', s.user, 'insecure-password', s.password),
    ]),
  ];
}

function design(c: Cluster): string[] {
  const routing = ['Routing: POST /write and /api/v2/write -> backend writes (the relays, checked on GET /health);'];
  if (!c.freshness.enabled) {
    return [
      ...routing,
      '/query and /api/v2/query -> backend reads_any (every database that answers /ping; freshness is off);',
      'GET/HEAD /ping is answered here with 204; anything else gets 404. See docs/cluster.md.',
    ];
  }
  return [
    ...routing,
    '/query and /api/v2/query -> backend reads_fresh (databases that are up and caught up), else reads_any;',
    'GET/HEAD /ping is answered here with 204; anything else gets 404.',
    'Freshness: every relay reports each database on GET /health/backends/<db> (200 = no backlog).',
    'fresh_<db> counts the relays that say so, relays_alive counts the relays that answer at all;',
    'the freshness frontend compares the two for each database, and reads_fresh checks each server there.',
    'See docs/cluster.md for the whole design and its limits.',
  ];
}

export function buildConfig(c: Cluster): HaproxyConfig {
  return {
    notes: design(c),
    sections: [
      globalSection(c),
      ...resolversSections(c),
      defaultsSection(c),
      httpFrontend(c),
      writesBackend(c),
      ...readSections(c),
      ...tcpSections(c),
      ...statsSections(c),
    ],
  };
}
