/**
 * TEST STAND-IN for InfluxData's archived Go `influxdb-relay`, used only to test the harness's GO_RELAY_BIN
 * comparison on machines without the Go binary (harness.test.ts). It is not a relay and is never benchmarked:
 *
 *   node dist/test/bench/go-relay-stub.js -config relay.toml
 *
 * It speaks the part of the Go relay the harness relies on: the TOML's [[http]] tables (bind-addr and output =
 * [{ name, location }]), GET /ping → 204, POST /write → the body forwarded to every output (query string kept), then
 * 204 once every output answered 2xx (502 otherwise). No /metrics, like the real one.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'smol-toml';
import { request } from 'undici';

interface HttpTable {
  'bind-addr': string;
  output: Array<{ name: string; location: string }>;
}

const i = process.argv.indexOf('-config');
const file = i > 0 ? process.argv[i + 1] : undefined;
if (!file) {
  process.stderr.write('usage: go-relay-stub -config FILE\n');
  process.exit(2);
}
const doc = parse(readFileSync(file, 'utf8')) as { http?: HttpTable[] };

async function forward(location: string, query: string, body: Buffer): Promise<boolean> {
  const res = await request(location + query, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
  await res.body.dump();
  return res.statusCode >= 200 && res.statusCode < 300;
}

function handler(outputs: HttpTable['output']) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0];
    if (path === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(204).end();
      return;
    }
    if (path !== '/write' || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const query = url.slice(path?.length ?? 0);
      Promise.all(outputs.map((o) => forward(o.location, query, body).catch(() => false))).then(
        (oks) => res.writeHead(oks.every(Boolean) ? 204 : 502).end(),
        () => res.writeHead(502).end(),
      );
    });
  };
}

for (const h of doc.http ?? []) {
  const addr = h['bind-addr'];
  const colon = addr.lastIndexOf(':');
  createServer({ keepAliveTimeout: 300_000 }, handler(h.output)).listen(Number(addr.slice(colon + 1)), addr.slice(0, colon) || '0.0.0.0');
}
process.on('SIGTERM', () => process.exit(0));
