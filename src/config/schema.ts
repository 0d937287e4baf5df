/**
 * The relay.toml schema: every key, its type, default, origin and meaning. The single source of truth for the
 * loader (load.ts) and for docs/configuration.md (docs.ts). Keys of InfluxData's influxdb-relay keep their Go
 * meaning so its relay.toml loads unchanged; where our default differs, the description says so.
 */
import { constants as bufferConstants } from 'node:buffer';
import { z } from 'zod';
import {
  address,
  bool,
  duration,
  errorMap,
  go,
  httpUrl,
  integer,
  isHttpUrl,
  oneOf,
  optionalInteger,
  optionalText,
  ours,
  precision,
  requiredText,
  section,
  shownDefault,
  tables,
  text,
  type Kind,
} from './fields.js';
import { checkListeners, checkOutputNames } from './listener-checks.js';
import { checkHttpOutput } from './output-checks.js';
import { GraphiteParser } from '../sources/convert/graphite.js';
import { CONSISTENCY_LEVELS, FSYNC_POLICIES, LOG_LEVELS, OUTPUT_TYPES, WHEN_FULL } from './enums.js';
import {
  type GraphiteListenerConfig,
  type HttpListenerConfig,
  type HttpOutputConfig,
  type OpentsdbListenerConfig,
  type RelayConfig,
  type TcpListenerConfig,
  type UdpForwardConfig,
  type UdpListenerConfig,
  type UdpOutputConfig,
} from './types.js';

// ---- outputs -----------------------------------------------------------------------------------------------

const outputName = shownDefault(text(), 'the `location`');

const MiB = 1024 * 1024;
/** `buffer-size-mb` when absent, and the in-memory part of a spooled backlog when it is 0 (see spoolMemoryMb). */
const DEFAULT_BUFFER_SIZE_MB = 64;

export const HTTP_OUTPUT_FIELDS = {
  name: go('name', outputName, 'Backend name in logs and metrics; unique within its listener.'),
  location: go(
    'location',
    httpUrl(),
    "Full URL of the backend's write endpoint, e.g. `http://127.0.0.1:8086/write`. Credentials in the URL " +
      '(`http://user:pass@host:8086/write`) are used like `http-user`/`http-pass`. With `type = "v2"`: the ' +
      'origin (`http://127.0.0.1:8086`) or a URL ending in `/api/v2/write`.',
  ),
  timeoutMs: go('timeout', duration('10s', { emptyIsDefault: true }), 'Timeout of one write request to this backend.'),
  bufferSizeMb: go(
    'buffer-size-mb',
    integer(DEFAULT_BUFFER_SIZE_MB, { unit: 'MB' }),
    "Limit of this backend's queue, in MB of line protocol: writes wait there while the backend is slow or down, " +
      'and are retried until delivered or dead-lettered. influxdb-relay defaults to 0 (no buffering) when the key ' +
      'is absent; this relay defaults to 64 so that a backend restart loses nothing. An explicit `0` still ' +
      'disables the queue, as in influxdb-relay: each write is sent once, without retry. With `spool-dir` it is the ' +
      'part of the backlog kept in memory (`0` there means the default, 64).',
  ),
  maxBatchKb: go(
    'max-batch-kb',
    integer(512, { unit: 'KB', zeroIsDefault: true }),
    'Largest request body sent to this backend when queued writes are merged into one request. ' +
      '`0` means the default, as in influxdb-relay.',
  ),
  maxDelayIntervalMs: go(
    'max-delay-interval',
    duration('10s', { emptyIsDefault: true }),
    'Cap of the exponential retry backoff for this backend.',
  ),
  skipTlsVerification: go(
    'skip-tls-verification',
    bool(false),
    'Accept any certificate from an `https://` backend. Insecure: only for testing with self-signed certificates; ' +
      'prefer `ca-file`.',
  ),
  httpUser: go(
    'http-user',
    optionalText(),
    'User for HTTP Basic auth to this backend, used when the client sent no credentials. Set with `http-pass`.',
  ),
  httpPass: go('http-pass', optionalText(), 'Password for `http-user`; set both or neither.'),
  deadLetterAfterMs: ours(
    'dead-letter-after',
    duration('1h', { zero: true }),
    'A batch still failing with retryable errors (5xx, network) this long after it was received is given up ' +
      '(dead-lettered), so one broken backend cannot hold its queue forever. `0`: at the first retryable failure.',
  ),
  deadLetterFile: ours(
    'dead-letter-file',
    optionalText('path'),
    'When set, dead-lettered batches are appended to this file as line protocol, each after a `#` comment header ' +
      'saying which backend gave up on it and why, so they can be replayed. Unset: with `spool-dir`, they go to ' +
      '`<spool-dir>/dead-letters/<listener>.<output>.lp`; without, they are logged and counted only.',
  ),
  maxInFlight: ours(
    'max-in-flight',
    integer(1, { min: 1 }),
    'Concurrent write requests to this backend. `1` keeps writes in the order received; more trades strict write ' +
      'order for throughput.',
  ),
  connections: ours(
    'connections',
    integer(8, { min: 1 }),
    'Size of the HTTP connection pool (undici) to this backend.',
  ),
  initialDelayIntervalMs: ours(
    'initial-delay-interval',
    duration('100ms'),
    'First retry backoff; it doubles (with jitter) after each failure, up to `max-delay-interval`. ' +
      'influxdb-relay used a fixed 500ms.',
  ),
  caFile: ours(
    'ca-file',
    optionalText('path'),
    "PEM file of the CA certificate(s) that sign an `https://` backend's certificate. It replaces the system CAs " +
      'for this backend (as `curl --cacert` does); to trust both, append the system bundle to the file. Read and ' +
      'checked at startup.',
  ),
  type: ours(
    'type',
    oneOf(OUTPUT_TYPES, 'v1'),
    '`"v1"`: an InfluxDB 1.x `/write` endpoint. `"v2"`: an InfluxDB 2.x or 3.x `/api/v2/write` endpoint, ' +
      'written with `org`, `bucket` and `token`; see [operations](operations.md#influxdb-2x-backends).',
  ),
  org: ours('org', optionalText(), 'Organization of a `type = "v2"` output (required there; 3.x ignores it).'),
  bucket: ours(
    'bucket',
    optionalText(),
    'Bucket of a `type = "v2"` output. Empty: each write goes to the bucket named after its database and ' +
      'retention policy, `db/rp`, or `db` when the write names no retention policy.',
  ),
  token: ours(
    'token',
    optionalText(),
    'API token of a `type = "v2"` output (required there), sent as `Authorization: Token ...`. It replaces the ' +
      "client's credentials, which a 2.x backend cannot check.",
  ),
};

export const httpOutput = section(
  HTTP_OUTPUT_FIELDS,
  (r): HttpOutputConfig => ({
    kind: 'http',
    ...r,
    name: r.name === '' ? r.location : r.name,
    spoolMemoryMb: r.bufferSizeMb === 0 ? DEFAULT_BUFFER_SIZE_MB : r.bufferSizeMb,
  }),
  checkHttpOutput,
);

export const UDP_FORWARD_FIELDS = {
  name: go('name', outputName, 'Backend name in logs and metrics; unique within its listener.'),
  location: go(
    'location',
    address('dial'),
    "`host:port` of the backend's UDP service. An `http://` or `https://` URL instead makes this output an HTTP " +
      'backend (see below).',
  ),
  mtu: go(
    'mtu',
    integer(1024, { unit: 'bytes', zeroIsDefault: true }),
    'Largest datagram sent to this backend. `0` means the default, as in influxdb-relay.',
  ),
};

export const udpForward = section(
  UDP_FORWARD_FIELDS,
  (r): UdpForwardConfig => ({ kind: 'udp', ...r, name: r.name === '' ? r.location : r.name }),
);

/** A `[[udp]]` output: an HTTP backend when its location is an http(s) URL, else a raw UDP forward. */
const udpOutput: z.ZodType<UdpOutputConfig, z.ZodTypeDef, unknown> = z.unknown().transform((v, ctx) => {
  const location = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['location'] : undefined;
  const schema = typeof location === 'string' && isHttpUrl(location) ? httpOutput.schema : udpForward.schema;
  const result = schema.safeParse(v, { path: ctx.path, errorMap });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', path: issue.path.slice(ctx.path.length), message: issue.message });
  }
  return z.NEVER;
});

// ---- listeners ---------------------------------------------------------------------------------------------

const listenerName = (scheme: string): Kind<string> => shownDefault(text(), `\`"${scheme}://<bind-addr>"\``);

export const HTTP_LISTENER_FIELDS = {
  name: go('name', listenerName('http'), 'Listener name in logs and metrics (`https://...` when serving TLS).'),
  bindAddr: go(
    'bind-addr',
    address('listen'),
    'Address to listen on for HTTP writes (`POST /write`, `GET /ping`). An empty host (`:9096`) means every interface.',
  ),
  sslCombinedPem: go(
    'ssl-combined-pem',
    optionalText('path'),
    'PEM file holding both the certificate and its private key; when set, the listener serves HTTPS only.',
  ),
  defaultRetentionPolicy: go(
    'default-retention-policy',
    text(),
    "Retention policy for writes that name none (no `rp` parameter). Empty: the database's default.",
  ),
  defaultPingResponse: go(
    'default-ping-response',
    integer(204, { min: 200, max: 299 }),
    "HTTP status of `GET`/`HEAD /ping` (documented in influxdb-relay's README).",
  ),
  output: go(
    'output',
    tables(httpOutput.schema, 'output'),
    'The InfluxDB backends every write is mirrored to; keys in [`[[http]]` output](#http-output).',
  ),
  ack: ours(
    'ack',
    oneOf(CONSISTENCY_LEVELS, 'any'),
    "When the client gets its 204. `any`: once every backend has delivered the write or holds it in its queue (a " +
      'backend that is up still gets up to `answer-timeout` to answer first, so its 4xx reaches the client). `one`, ' +
      '`quorum` (a majority), `all`: once that many backends have delivered it, within `answer-timeout`. The ' +
      "`consistency` query parameter overrides it per request.",
  ),
  maxBodySize: ours(
    'max-body-size',
    integer(25_000_000, { unit: 'bytes' }),
    "Largest request body, measured after gzip decoding (so a small compressed body cannot expand without limit); " +
      "larger requests get 413. InfluxDB's own key, unit and default, so that a body the relay accepts (and queues) " +
      'is one the backends accept too: keep it at most the backends\' `max-body-size`. `0`: no limit, as in InfluxDB.',
  ),
  maxBodySizeMb: ours(
    'max-body-size-mb',
    optionalInteger({ min: 1, unit: 'MiB' }),
    'Deprecated: use `max-body-size`. When set, it wins, in MiB: `25` is 26,214,400 bytes, more than InfluxDB ' +
      'accepts by default (25,000,000), so a write the relay acknowledged could be rejected by every backend.',
  ),
  headerTimeoutMs: ours('header-timeout', duration('10s'), 'Time a client has to send the request headers.'),
  requestTimeoutMs: ours(
    'request-timeout',
    duration('30s'),
    'Time a client has to send a whole request, body included, so slow clients cannot hold connections.',
  ),
  idleTimeoutMs: ours('idle-timeout', duration('60s'), 'How long an idle keep-alive connection stays open.'),
};

/** `max-body-size = 0`: as large as a Buffer can be (the decoder needs a finite bound). */
const UNLIMITED_BODY_BYTES = bufferConstants.MAX_LENGTH;

export const httpListener = section(
  HTTP_LISTENER_FIELDS,
  ({ maxBodySize, maxBodySizeMb, ...r }): HttpListenerConfig => ({
    ...r,
    maxBodyBytes: maxBodySizeMb !== undefined ? maxBodySizeMb * MiB : maxBodySize === 0 ? UNLIMITED_BODY_BYTES : maxBodySize,
    name: r.name === '' ? `${r.sslCombinedPem === undefined ? 'http' : 'https'}://${r.bindAddr}` : r.name,
  }),
  (l, ctx) => checkOutputNames(l.output, ctx),
);

export const UDP_LISTENER_FIELDS = {
  name: go('name', listenerName('udp'), 'Listener name in logs and metrics.'),
  bindAddr: go('bind-addr', address('listen'), 'Address to receive line-protocol datagrams on.'),
  readBuffer: go(
    'read-buffer',
    integer(0, { unit: 'bytes' }),
    'Socket receive buffer size (SO_RCVBUF); `0` keeps the OS default.',
  ),
  precision: go('precision', precision(), 'Timestamp precision of the received lines, and of what is forwarded.'),
  database: ours(
    'database',
    text(),
    'Database that HTTP outputs write to (datagrams carry none). Required when any output is an HTTP backend.',
  ),
  retentionPolicy: ours(
    'retention-policy',
    text(),
    "Retention policy that HTTP outputs write to. Empty: the database's default.",
  ),
  output: go(
    'output',
    tables(udpOutput, 'output'),
    'Where received lines go; keys in [`[[udp]]` output](#udp-output).',
  ),
};

export const udpListener = section(
  UDP_LISTENER_FIELDS,
  (r): UdpListenerConfig => ({ ...r, name: r.name === '' ? `udp://${r.bindAddr}` : r.name }),
  (l, ctx) => {
    checkOutputNames(l.output, ctx);
    if (l.database === '' && l.output.some((o) => o.kind === 'http')) {
      ctx.addIssue({ code: 'custom', path: ['database'], message: 'required when an output is an http(s) URL' });
    }
  },
);

export const TCP_LISTENER_FIELDS = {
  name: ours('name', listenerName('tcp'), 'Listener name in logs and metrics (`tcps://...` when serving TLS).'),
  bindAddr: ours('bind-addr', address('listen'), 'Address to accept newline-delimited line protocol on.'),
  database: ours('database', requiredText(), 'Database the received lines are written to.'),
  retentionPolicy: ours('retention-policy', text(), "Retention policy to write to. Empty: the database's default."),
  precision: ours('precision', precision(), 'Timestamp precision of the received lines.'),
  maxLineKb: ours(
    'max-line-kb',
    integer(64, { min: 1, unit: 'KB' }),
    'Longest accepted line, which bounds the memory one connection can hold.',
  ),
  idleTimeoutMs: ours('idle-timeout', duration('5m'), 'A connection that sends nothing for this long is closed.'),
  batchSizeKb: ours(
    'batch-size-kb',
    integer(512, { min: 1, unit: 'KB' }),
    'Received lines are handed to the backends in batches of up to this size, or after `batch-delay`, ' +
      'whichever comes first.',
  ),
  batchDelayMs: ours(
    'batch-delay',
    duration('100ms'),
    'Longest time a received line waits for its batch to fill (see `batch-size-kb`).',
  ),
  sslCombinedPem: ours(
    'ssl-combined-pem',
    optionalText('path'),
    'PEM file holding both the certificate and its private key; when set, the listener serves TLS only.',
  ),
  output: ours(
    'output',
    tables(httpOutput.schema, 'output'),
    'The InfluxDB backends every line is mirrored to; same keys as [`[[http]]` output](#http-output).',
  ),
};

export const tcpListener = section(
  TCP_LISTENER_FIELDS,
  (r): TcpListenerConfig => ({
    ...r,
    name: r.name === '' ? `${r.sslCombinedPem === undefined ? 'tcp' : 'tcps'}://${r.bindAddr}` : r.name,
  }),
  (l, ctx) => checkOutputNames(l.output, ctx),
);

/** A TOML array of strings. */
function stringList(): Kind<string[]> {
  return { type: 'array of strings', defaultText: '`[]`', schema: z.array(z.string()).default([]) };
}

/** The keys every converting listener shares with `[[tcp]]`. */
const STREAM_FIELDS = {
  database: ours('database', requiredText(), 'Database the converted points are written to.'),
  retentionPolicy: ours('retention-policy', text(), "Retention policy to write to. Empty: the database's default."),
  maxLineKb: TCP_LISTENER_FIELDS.maxLineKb,
  idleTimeoutMs: TCP_LISTENER_FIELDS.idleTimeoutMs,
  batchSizeKb: ours(
    'batch-size-kb',
    integer(512, { min: 1, unit: 'KB' }),
    'Converted points are handed to the backends in batches of up to this size (as line protocol), or after ' +
      '`batch-timeout`, whichever comes first. (InfluxDB counts `batch-size` in points instead.)',
  ),
  batchDelayMs: ours(
    'batch-timeout',
    duration('1s'),
    "Longest time a received point waits for its batch to fill; InfluxDB's key and default.",
  ),
  output: ours(
    'output',
    tables(httpOutput.schema, 'output'),
    'The InfluxDB backends every point is mirrored to; same keys as [`[[http]]` output](#http-output).',
  ),
};

export const OPENTSDB_LISTENER_FIELDS = {
  name: ours('name', listenerName('opentsdb'), 'Listener name in logs and metrics.'),
  bindAddr: ours(
    'bind-addr',
    address('listen'),
    "Address of the OpenTSDB port (InfluxDB's is `:4242`): telnet `put` lines, and HTTP `POST /api/put` on the " +
      'same port (a connection whose first line is an HTTP request line is HTTP).',
  ),
  ...STREAM_FIELDS,
  maxBodySize: ours(
    'max-body-size',
    integer(25_000_000, { min: 1, unit: 'bytes' }),
    'Largest `/api/put` body, after gzip decoding; larger requests get 413.',
  ),
  requestTimeoutMs: ours('request-timeout', duration('30s'), 'Time a client has to send a whole `/api/put` request.'),
  sslCombinedPem: ours(
    'ssl-combined-pem',
    optionalText('path'),
    'PEM file holding both the certificate and its private key; when set, the port serves TLS only (telnet and HTTP).',
  ),
};

export const opentsdbListener = section(
  OPENTSDB_LISTENER_FIELDS,
  (r): OpentsdbListenerConfig => ({ ...r, name: r.name === '' ? `opentsdb://${r.bindAddr}` : r.name }),
  (l, ctx) => checkOutputNames(l.output, ctx),
);

export const GRAPHITE_LISTENER_FIELDS = {
  name: ours('name', shownDefault(text(), '`"graphite://<bind-addr>"` (`graphite+udp://` for UDP)'), 'Listener name in logs and metrics.'),
  bindAddr: ours('bind-addr', address('listen'), "Address of the Graphite plaintext port (InfluxDB's is `:2003`)."),
  protocol: ours('protocol', oneOf(['tcp', 'udp'] as const, 'tcp'), 'Transport, as InfluxDB\'s `protocol`. UDP has no backpressure (see `[[udp]]`).'),
  ...STREAM_FIELDS,
  separator: ours('separator', text('.'), 'Joins the metric parts a template puts into one measurement, tag or field.'),
  templates: ours(
    'templates',
    stringList(),
    "InfluxDB's graphite templates, `[filter] <template> [k=v,...]` (e.g. `\"netdata.* .host.measurement*\"`); " +
      'without any, `measurement*`: the whole metric name is the measurement.',
  ),
  tags: ours('tags', stringList(), 'Tags added to every point that does not have them, as `"k=v"` strings.'),
  parseGraphiteTags: ours(
    'parse-graphite-tags',
    bool(false),
    'Turn Graphite 1.1 tags (`name;k=v;k2=v2`, as Netdata sends them) into InfluxDB tags. Off: they stay part of ' +
      'the measurement name, as InfluxDB 1.6 keeps them.',
  ),
  udpReadBuffer: ours('udp-read-buffer', integer(0, { unit: 'bytes' }), 'UDP only: socket receive buffer (SO_RCVBUF); `0` keeps the OS default.'),
};

export const graphiteListener = section(
  GRAPHITE_LISTENER_FIELDS,
  (r): GraphiteListenerConfig => ({
    ...r,
    name: r.name === '' ? `${r.protocol === 'udp' ? 'graphite+udp' : 'graphite'}://${r.bindAddr}` : r.name,
  }),
  (l, ctx) => {
    checkOutputNames(l.output, ctx);
    try {
      new GraphiteParser({ separator: l.separator, templates: l.templates, tags: l.tags, parseTags: l.parseGraphiteTags });
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['templates'], message: (err as Error).message });
    }
  },
);

// ---- top level ---------------------------------------------------------------------------------------------

function listeners<T>(entry: z.ZodType<T, z.ZodTypeDef, unknown>): Kind<T[]> {
  return { type: 'array of tables', defaultText: 'none', schema: z.array(entry).default([]) };
}

export const ROOT_FIELDS = {
  logLevel: ours('log-level', oneOf(LOG_LEVELS, 'info'), 'Least severe level that is logged.'),
  shutdownTimeoutMs: ours(
    'shutdown-timeout',
    duration('10s', { zero: true }),
    "On SIGTERM or SIGINT the relay stops accepting writes and waits up to this long for the backends' queues " +
      'to drain before it exits.',
  ),
  scanThreads: ours(
    'scan-threads',
    shownDefault(integer(-1, { min: -1, max: 64 }), '`-1` (cores − 1, at most 4)'),
    'Worker threads that validate large HTTP bodies (64 KB and more) beside the event loop: validation is about half ' +
      'of the relay\'s CPU per point, so this lets the relay use a second core. A thread starts with the first large ' +
      'body and exits after 2 to 4 minutes without one (about 10 MB of memory an idle relay does not hold). `0`: validate on ' +
      'the event loop.',
  ),
  spoolDir: ours(
    'spool-dir',
    optionalText('path'),
    'Directory of the durable spool. When set, every write is appended to an on-disk log (one per listener, in a ' +
      'subdirectory named after the listener) and acknowledged only once it is on disk for every backend; each ' +
      'backend reads the log through its own durable cursor, so a relay crash, a restart or a long backend outage ' +
      'loses nothing acknowledged. Empty: queues live in memory only (see `buffer-size-mb`). Give listeners explicit ' +
      '`name`s when using a spool: the subdirectory follows the name.',
  ),
  ledgerDir: ours(
    'ledger-dir',
    optionalText('path'),
    'Directory of the missed-window ledger (`missed-windows.jsonl`): what each backend may be missing because the ' +
      'relay dropped a batch for it (queue full, dead letter, shutdown, a line too large) or lost its memory ' +
      'backlog in a crash, by database, retention policy and time range, so the replica can be repaired. Empty: ' +
      'the `spool-dir`; with neither, missed windows are only counted in metrics, not recorded.',
  ),
  spoolMaxMb: ours(
    'spool-max-mb',
    integer(1024, { min: 1, unit: 'MB' }),
    "Bound of each backend's backlog in the spool (line protocol bytes, on disk and in memory). A backend's " +
      '`buffer-size-mb` becomes the part of it kept in memory, so the healthy path never reads back from disk.',
  ),
  fsync: ours(
    'fsync',
    oneOf(FSYNC_POLICIES, 'interval'),
    'How the spool makes an acknowledged write durable. `always`: the 204 waits for its fdatasync (one per group ' +
      'of concurrent appends); survives a power cut. `interval`: the 204 comes once the write is in the log file; ' +
      'an fdatasync follows in the background at most once per `fsync-interval`, so a relay crash loses nothing ' +
      'acknowledged and a power cut at most about one interval (waiting for that fdatasync instead would add up to an ' +
      'interval to every write, and cap a client that sends one request at a time at one per interval). ' +
      '`never`: acknowledged once written, synced when ' +
      'the OS decides: survives a relay crash, not a power cut.',
  ),
  fsyncIntervalMs: ours(
    'fsync-interval',
    duration('20ms'),
    'Background fdatasync period of `fsync = "interval"`: the window of acknowledged writes a power cut can take. ' +
      'It adds no latency to writes.',
  ),
  whenFull: ours(
    'when-full',
    oneOf(WHEN_FULL, 'drop-oldest'),
    "What happens when a backend's queue is full: its `buffer-size-mb` (memory) or its `spool-max-mb` backlog " +
      '(spool), for example because that database has been down longer than its queue lasts. `drop-oldest` ' +
      "(default): while that backend is down, its oldest queued writes are dropped to make room, counted " +
      '(`influx_relay_backend_points_dropped_total{reason="queue-full"}` or `"spool-full"`) and recorded as a ' +
      "missed window for that backend, so it can be repaired; the other backends and the intake carry on, and " +
      '`/health` stays 200, so HAProxy keeps every relay in rotation while one replica is down; a backend that is ' +
      'up but slower than the intake pushes back as under `reject` instead. `reject`: ' +
      'back-pressure instead: the write gets 503 + Retry-After and no backend gets it, and `/health` answers 503 ' +
      'while the queue is full, so one replica down long enough stops all writes.',
  ),
  antiEntropyIntervalMs: ours(
    'anti-entropy-interval',
    duration('0s', { zero: true }),
    'How often the relay repairs its replicas by itself (docs/integrity.md): it copies each unrepaired missed window ' +
      'to its backend from another one once that backend is back, and compares the last `anti-entropy-lookback` ' +
      'across backends, copying what differs both ways. `0s`: off (run `influx-relay repair` by hand instead). The ' +
      'first pass waits a random part of the interval, so relays sharing the databases do not run together. InfluxDB ' +
      '1.x outputs only.',
  ),
  antiEntropyLookbackMs: ours(
    'anti-entropy-lookback',
    duration('1h', { zero: true }),
    'How far back each anti-entropy pass compares the replicas (up to a minute ago). `0s`: only the ledger windows.',
  ),
  reloadEndpoint: ours(
    'reload-endpoint',
    bool(false),
    '`POST /-/reload` on every HTTP listener re-reads this file and applies it, as SIGHUP does (docs/operations.md, ' +
      '"Reload"). Off by default: anyone who can reach the listener could trigger it.',
  ),
  answerTimeoutMs: ours(
    'answer-timeout',
    duration('2s'),
    "Longest a client waits for its answer on a backend's account once its write is safely queued for that " +
      'backend: a backend still in flight then counts as queued (so a hung database does not hold every client ' +
      'for the whole output `timeout`). A backend that answers within it still passes its 4xx to the client, and ' +
      '`ack`/`consistency` levels above `any` count the deliveries made within it. Outputs with `buffer-size-mb = 0` ' +
      '(no queue) are waited for up to their own `timeout`.',
  ),
  maxBodiesInFlightMb: ours(
    'max-bodies-in-flight-mb',
    integer(256, { min: 1, unit: 'MB' }),
    'Request bodies all HTTP listeners together may hold while reading, decoding and handing them on (decoded ' +
      'bytes; `max-body-size-mb` bounds one request, this bounds them all). A request whose announced size does not ' +
      'fit gets 503 + `Retry-After` before its body is read; a chunked or gzip body that outgrows what is left gets ' +
      'the same. At least the largest `max-body-size-mb`.',
  ),
  bodyPoolMb: ours(
    'body-pool-mb',
    integer(32, { min: 0, unit: 'MB' }),
    'Memory kept for reuse by large request bodies (64 KB to 8 MB, with a Content-Length): a body is read into ' +
      'memory that earlier bodies used once every backend queue is done with them, instead of new memory that the ' +
      'garbage collector must reclaim: less GC work and lower peak memory under load (docs/benchmarks.md). This ' +
      'bounds what stays idle, not what is in use. Listeners with a spool do not pool. 0 turns pooling off.',
  ),
  http: go('http', listeners(httpListener.schema), 'HTTP listeners: `[[http]]` tables.'),
  udp: go('udp', listeners(udpListener.schema), 'UDP listeners: `[[udp]]` tables.'),
  tcp: ours('tcp', listeners(tcpListener.schema), 'TCP line-protocol listeners: `[[tcp]]` tables.'),
  opentsdb: ours('opentsdb', listeners(opentsdbListener.schema), 'OpenTSDB listeners (telnet and `/api/put`): `[[opentsdb]]` tables.'),
  graphite: ours('graphite', listeners(graphiteListener.schema), 'Graphite plaintext listeners: `[[graphite]]` tables.'),
};

export const root = section(
  ROOT_FIELDS,
  (r): RelayConfig => r,
  (c, ctx) => {
    checkListeners(c, ctx);
    const budget = c.maxBodiesInFlightMb * 1024 * 1024;
    c.http.forEach((l, i) => {
      // max-body-size = 0 (no limit of its own): the budget is then the limit.
      if (l.maxBodyBytes <= budget || l.maxBodyBytes >= UNLIMITED_BODY_BYTES) return;
      const message = `larger than max-bodies-in-flight-mb (${c.maxBodiesInFlightMb}): such a request could never be accepted`;
      ctx.addIssue({ code: 'custom', path: ['http', i, 'max-body-size'], message });
    });
  },
);
