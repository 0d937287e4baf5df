/**
 * Renders docs/configuration.md from the schema. The whole page, prose included, comes from here so the file is
 * fully generated; `docs-cli --check` (run by `make test`) fails when the committed page differs.
 */
import type { Field } from './fields.js';
import {
  HTTP_LISTENER_FIELDS,
  HTTP_OUTPUT_FIELDS,
  ROOT_FIELDS,
  TCP_LISTENER_FIELDS,
  UDP_FORWARD_FIELDS,
  UDP_LISTENER_FIELDS,
} from './schema.js';

type FieldTable = Record<string, Field<unknown>>;

const INTRO = `<!-- Generated from src/config/schema.ts by \`make docs\`; do not edit by hand. -->
# Configuration

The relay reads one TOML file, named with \`-config\`, like InfluxData's influxdb-relay:

\`\`\`sh
influx-relay -config relay.toml            # run
influx-relay -check -config relay.toml     # validate the file and exit (status 2 when invalid)
\`\`\`

A \`relay.toml\` written for influxdb-relay works unchanged: its keys (marked \`influxdb-relay\` below) keep their
meaning; [the differences](#differences-from-influxdb-relay) are listed at the end. Keys marked
\`relay\` are additions of this relay. \`-log-level\` on the command line overrides \`log-level\`.

Every key is checked at startup. An error names the key by its path, e.g.
\`relay.toml: http[0].output[1].location: not an http:// or https:// URL: "127.0.0.1:8086"\`; unknown keys are
errors too, so a typo cannot pass silently.

Examples: [examples/relay.toml](examples/relay.toml) (annotated) and
[examples/influxdb-relay-sample.toml](examples/influxdb-relay-sample.toml) (influxdb-relay's own sample, unchanged).

## Value types

- **duration**: Go syntax, a sequence of numbers with units \`ns\`, \`us\` (or \`µs\`), \`ms\`, \`s\`, \`m\`, \`h\`:
  \`"300ms"\`, \`"1.5s"\`, \`"1m30s"\`, \`"2h"\`. Negative durations are rejected; \`"0"\` only where noted.
- **integer**: a TOML integer (not a float, not a string), never negative; sizes are in the unit shown
  (KB and MB are 1024-based).
- **host:port**: \`"127.0.0.1:9096"\`, \`"[::1]:9096"\`, \`":9096"\` (every interface). Port \`0\` picks a free port.
- **URL**: \`http://\` or \`https://\`, with the path of the backend's write endpoint (\`/write\`; for a
  \`type = "v2"\` output, the origin or \`/api/v2/write\`).
- Empty strings mean "not set" for optional strings (\`ssl-combined-pem\`, \`http-user\`, \`dead-letter-file\`,
  \`ca-file\`, \`org\`, \`bucket\`, \`token\`).
`;

const UDP_HTTP_OUTPUTS = `An output whose \`location\` is an \`http://\` or \`https://\` URL is an HTTP backend instead of a UDP
forward: it takes the keys of [\`[[http]]\` output](#http-output) (with their defaults), gets its own queue and
retries, and writes to the listener's \`database\` and \`retention-policy\`, which makes \`database\` required.`;

const VALIDATION = `## Validation

Besides each key's type and range, the relay refuses to start when:

- there is no \`[[http]]\`, \`[[udp]]\` or \`[[tcp]]\` listener;
- a listener has no \`output\`;
- two outputs of one listener have the same \`name\` (a name defaults to the \`location\`, so two unnamed outputs
  with the same location clash);
- two TCP listeners (\`[[http]]\`, \`[[tcp]]\`) share a \`bind-addr\`, or two \`[[udp]]\` listeners do; one
  \`host:port\` may serve both HTTP and UDP, as in influxdb-relay's sample. Port \`0\` never clashes;
- \`initial-delay-interval\` exceeds \`max-delay-interval\`;
- only one of \`http-user\` and \`http-pass\` is set (influxdb-relay silently sent no credentials then);
- a \`[[udp]]\` listener with an HTTP output has no \`database\`;
- a \`type = "v2"\` output lacks \`org\` or \`token\`, has a \`location\` path other than none or
  \`/api/v2/write\`, or has \`http-user\`/\`http-pass\` or credentials in its URL (the token is what it sends);
  a \`type = "v1"\` output sets \`org\`, \`bucket\` or \`token\`, or points at \`/api/v2/write\`;
- \`ca-file\` is set for an \`http://\` location, together with \`skip-tls-verification = true\`, or names a
  file that cannot be read or holds no PEM certificate.
`;

const DIFFERENCES = `## Differences from influxdb-relay

- \`buffer-size-mb\` defaults to 64 when absent (influxdb-relay: 0, no buffering, failed writes lost). An explicit
  \`0\` still disables the queue.
- The client's \`204\` depends on \`ack\` (default \`any\`: every backend's queue has accepted the write);
  influxdb-relay answered as soon as one backend accepted the write.
- \`http-user\`/\`http-pass\` are sent only when the client sent no credentials of its own; influxdb-relay
  replaced the client's credentials with them.
- Retries start at \`initial-delay-interval\` (100ms) with jitter; influxdb-relay started at a fixed 500ms.
- Failing batches are dead-lettered after \`dead-letter-after\`; influxdb-relay retried buffered writes forever.
- Unknown keys, malformed values, duplicate output names and duplicate bind addresses are errors at startup.
- \`[[tcp]]\`, HTTP outputs of \`[[udp]]\`, and the \`database\`/\`retention-policy\` keys of \`[[udp]]\` are new.
- Outputs may be InfluxDB 2.x/3.x backends (\`type = "v2"\`) and may trust a private CA (\`ca-file\`).
- As in influxdb-relay, \`timeout = ""\` and \`max-delay-interval = ""\` mean the default, and so do
  \`max-batch-kb = 0\` and \`mtu = 0\`.
`;

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(fields: FieldTable): string {
  const rows = Object.values(fields).map(
    (f) => `| \`${f.key}\` | ${cell(f.type)} | ${cell(f.defaultText)} | ${f.origin} | ${cell(f.doc)} |`,
  );
  return ['| Key | Type | Default | From | Description |', '|---|---|---|---|---|', ...rows].join('\n');
}

function part(heading: string, intro: string, fields?: FieldTable): string {
  return [`## ${heading}`, intro, ...(fields === undefined ? [] : [table(fields)])].join('\n\n') + '\n';
}

/** The Markdown of docs/configuration.md. */
export function renderConfigDocs(): string {
  return [
    INTRO,
    part('Top level', 'Keys outside any table, and the listener tables.', ROOT_FIELDS),
    part(
      '[[http]]',
      'An HTTP listener taking InfluxDB 1.x writes (`POST /write?db=...`) and mirroring each to every output.',
      HTTP_LISTENER_FIELDS,
    ),
    part(
      '[[http]] output',
      'One InfluxDB backend, with its own queue, retries and connection pool; a slow backend never stalls another.',
      HTTP_OUTPUT_FIELDS,
    ),
    part(
      '[[udp]]',
      'A UDP listener taking line protocol datagrams, as InfluxDB\'s `[[udp]]` service does.',
      UDP_LISTENER_FIELDS,
    ),
    part('[[udp]] output', ['A raw UDP forward, as in influxdb-relay:', table(UDP_FORWARD_FIELDS), UDP_HTTP_OUTPUTS].join('\n\n')),
    part(
      '[[tcp]]',
      'A TCP listener taking newline-delimited line protocol over a plain socket (or TLS), for senders that ' +
        'keep a connection open; an addition of this relay.',
      TCP_LISTENER_FIELDS,
    ),
    part('[[tcp]] output', 'Same keys and defaults as [`[[http]]` output](#http-output).'),
    VALIDATION,
    DIFFERENCES,
  ].join('\n');
}
