// The [[tcp]] listener: a long stream lands whole on two real influxd backends; a client faster than a stalled
// backend is paused, not dropped; over-long lines, idle connections, TLS and a graceful close.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import type { HttpOutputConfig, TcpListenerConfig } from '../../src/config/types.js';
import { TcpSource } from '../../src/sources/tcp.js';
import { intakeMetrics } from '../../src/telemetry/intake-metrics.js';
import { startFakeBackend, type FakeStep } from '../helpers/fake-backend.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { counterValue, countPoints, httpOutput, rig, type Rig } from './source-fixtures.js';
import { eventually } from '../helpers/eventually.js';

function listener(db: string, o: Partial<TcpListenerConfig> = {}): TcpListenerConfig {
  return {
    name: 'tcp-test',
    bindAddr: '127.0.0.1:0',
    database: db,
    retentionPolicy: '',
    precision: 'n',
    maxLineKb: 64,
    idleTimeoutMs: 60_000,
    batchSizeKb: 512,
    batchDelayMs: 50,
    output: [],
    ...o,
  };
}

async function withSource<T>(r: Rig, config: TcpListenerConfig, fn: (src: TcpSource, port: number) => Promise<T>): Promise<T> {
  const src = new TcpSource(config, r.fanout, r.metrics, r.logger);
  try {
    await src.start();
    return await fn(src, src.address!.port);
  } finally {
    await src.close(Date.now() + 5000);
    await r.close();
  }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Writes everything and half-closes; resolves once the kernel took the last byte. */
function writeAll(s: net.Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.end(data, () => resolve());
  });
}

const closed = (s: net.Socket) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));

describe('TCP listener with influxd backends', () => {
  let a: Influxd;
  let b: Influxd;
  before(async () => {
    [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
    for (const s of [a, b]) await s.createDatabase('tcpdb');
  });
  after(async () => {
    await Promise.all([a?.destroy(), b?.destroy()]);
  });
  const outputs = (): HttpOutputConfig[] => [httpOutput(`${a.url}/write`), httpOutput(`${b.url}/write`)];

  test('100k lines through one connection: all 100k on both backends (last line without a newline)', async () => {
    const r = rig(outputs());
    await withSource(r, listener('tcpdb'), async (_src, port) => {
      const base = 1_700_000_000_000_000_000n;
      const lines: string[] = [];
      for (let i = 0; i < 100_000; i++) lines.push(`stream,host=h${i % 10} v=${i}i ${base + BigInt(i)}`);
      const client = await connect(port);
      await writeAll(client, lines.join('\n'));
      await closed(client);
      await eventually(async () => {
        assert.equal(await countPoints(a, 'tcpdb', 'stream', 'v'), 100_000);
        assert.equal(await countPoints(b, 'tcpdb', 'stream', 'v'), 100_000);
      }, 20_000, 200);
      assert.equal(await counterValue(r.metrics.pointsReceived, { listener: 'tcp-test' }), 100_000);
      assert.equal(await counterValue(r.metrics.linesRejected), 0);
    });
  });

  test('a line over max-line-kb is discarded and counted; the connection goes on', async () => {
    const r = rig(outputs());
    await withSource(r, listener('tcpdb', { maxLineKb: 1 }), async (src, port) => {
      const client = await connect(port);
      client.write(`long,k=1 ok=1i 1\nlong,k=1 s="${'x'.repeat(3000)}" 2\nlong,k=1 ok=3i 3\n`);
      await eventually(async () => assert.equal(await countPoints(a, 'tcpdb', 'long', 'ok'), 2));
      assert.equal(src.connectionCount, 1);
      await writeAll(client, 'long,k=1 ok=4i 4\nlong,k=1 bad=\n');
      await eventually(async () => {
        assert.equal(await countPoints(a, 'tcpdb', 'long', 'ok'), 3);
        assert.equal(await countPoints(b, 'tcpdb', 'long', 'ok'), 3);
      });
      assert.equal(await counterValue(intakeMetrics(r.metrics).linesDropped, { reason: 'line-too-long' }), 1);
      assert.equal(await counterValue(r.metrics.linesRejected, { listener: 'tcp-test' }), 1);
    });
  });

  test('lines without a timestamp are stamped per read, so separate writes in one batch do not overwrite each other', async () => {
    const r = rig(outputs());
    await withSource(r, listener('tcpdb', { batchDelayMs: 500, precision: 'n' }), async (_src, port) => {
      const client = await connect(port);
      const t0 = BigInt(Date.now()) * 1_000_000n;
      const stamped = () => counterValue(r.metrics.pointsStamped, { listener: 'tcp-test' });
      await new Promise<void>((resolve) => client.write('nostamp v=1i\n', () => resolve()));
      await eventually(async () => (await stamped()) === 1); // the relay read (and stamped) the first write
      await writeAll(client, 'nostamp v=2i\n');
      await eventually(async () => {
        for (const s of [a, b]) {
          const rows = await s.points('tcpdb', 'nostamp');
          assert.deepEqual(rows.map((x) => x.v), [1, 2]);
          assert.ok(BigInt(rows[0]!.time as string) >= t0);
          assert.ok(BigInt(rows[1]!.time as string) > BigInt(rows[0]!.time as string));
        }
      });
      assert.equal(await stamped(), 2);
      // Both writes were one batch: one request per backend.
      assert.equal(await counterValue(r.metrics.backendRequests, { outcome: 'ok' }), 2);
    });
  });

  test('idle-timeout closes a silent connection after handing on what it sent', async () => {
    const r = rig(outputs());
    await withSource(r, listener('tcpdb', { idleTimeoutMs: 300 }), async (src, port) => {
      const client = await connect(port);
      const t0 = Date.now();
      client.write('idle v=1i 1\n');
      await closed(client);
      assert.ok(Date.now() - t0 < 3000);
      await eventually(async () => assert.equal(await countPoints(a, 'tcpdb', 'idle', 'v'), 1));
      await eventually(() => assert.equal(src.connectionCount, 0));
    });
  });

  test('graceful close hands on the partial batch and closes the clients', async () => {
    const r = rig(outputs());
    const src = new TcpSource(listener('tcpdb', { batchDelayMs: 60_000 }), r.fanout, r.metrics, r.logger);
    try {
      await src.start();
      const client = await connect(src.address!.port);
      await new Promise<void>((resolve) => client.write('closing v=1i 1\nclosing v=2i 2\n', () => resolve()));
      // The relay read both lines; the batch stays open (60 s delay): nothing has gone to a backend.
      await eventually(async () => (await counterValue(r.metrics.pointsReceived, { listener: 'tcp-test' })) === 2);
      assert.equal(await counterValue(r.metrics.backendRequests), 0);
      assert.equal(await countPoints(a, 'tcpdb', 'closing', 'v'), 0);
      await src.close(Date.now() + 5000);
      await closed(client);
      await eventually(async () => {
        assert.equal(await countPoints(a, 'tcpdb', 'closing', 'v'), 2);
        assert.equal(await countPoints(b, 'tcpdb', 'closing', 'v'), 2);
      });
      await assert.rejects(connect(src.address?.port ?? 1), 'no longer accepting');
    } finally {
      await src.close(Date.now());
      await r.close();
    }
  });

  test('TLS (ssl-combined-pem)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tcp-tls-'));
    try {
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-days', '1'], { stdio: 'ignore' });
      const combined = path.join(dir, 'combined.pem');
      await writeFile(combined, (await readFile(cert, 'utf8')) + (await readFile(key, 'utf8')));
      const r = rig(outputs());
      await withSource(r, listener('tcpdb', { sslCombinedPem: combined }), async (_src, port) => {
        const client = await new Promise<tls.TLSSocket>((resolve, reject) => {
          const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s));
          s.once('error', reject);
        });
        await new Promise<void>((resolve) => client.end('tls v=1i 1\ntls v=2i 2\n', () => resolve()));
        await eventually(async () => {
          assert.equal(await countPoints(a, 'tcpdb', 'tls', 'v'), 2);
          assert.equal(await countPoints(b, 'tcpdb', 'tls', 'v'), 2);
        });
        // Plain text on the TLS port is refused, not ingested.
        const plain = await connect(port);
        plain.on('error', () => undefined);
        plain.end('tls v=3i 3\n');
        await closed(plain);
        assert.equal(await countPoints(a, 'tcpdb', 'tls', 'v'), 2);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('TCP backpressure (fake backends for the faults)', () => {
  /** Lines of the 2xx-answered requests, to check that everything landed exactly once or more, none missing. */
  function lineSet(bodies: Buffer[]): Set<string> {
    const set = new Set<string>();
    for (const body of bodies) for (const l of body.toString().split('\n')) if (l) set.add(l);
    return set;
  }

  test('a client faster than a stalled backend is paused, not dropped; everything lands after recovery', async () => {
    const fake = await startFakeBackend();
    let stalled = true;
    const delivered: Buffer[] = [];
    fake.setScript((req): FakeStep => {
      if (stalled) return { hang: true };
      delivered.push(req.body);
      return {};
    });
    const r = rig([httpOutput(fake.writeUrl, { bufferSizeMb: 1, timeoutMs: 300, initialDelayIntervalMs: 50, maxDelayIntervalMs: 200, maxBatchKb: 256 })]);
    try {
      await withSource(r, listener('db', { batchSizeKb: 16, batchDelayMs: 20 }), async (src, port) => {
        const n = 120_000; // ~4.6 MB: more than the 1 MB queue
        const lines: string[] = [];
        for (let i = 0; i < n; i++) lines.push(`bp,host=h v=${i}i ${1_700_000_000_000_000_000n + BigInt(i)}`);
        const client = await connect(port);
        let clientDone = false;
        const written = writeAll(client, lines.join('\n') + '\n').then(() => (clientDone = true));
        const m = intakeMetrics(r.metrics);
        await eventually(async () => assert.ok((await counterValue(m.tcpPauses)) >= 1, 'the connection was paused'));
        const backend = r.backends[0]!;
        assert.ok(backend.health().queueBytes <= 1024 * 1024, `queue holds ${backend.health().queueBytes} bytes`);
        assert.equal(backend.acceptingWrites, false);
        // A connection opened now is not read from at all until there is room.
        const received = () => counterValue(r.metrics.pointsReceived, { listener: 'tcp-test' });
        const before = await received();
        const pausesBefore = await counterValue(m.tcpPauses);
        const late = await connect(port);
        const lateDone = writeAll(late, 'bp,host=late v=1i 1\n');
        // Accepted with no room, it is paused at once, before its first read.
        await eventually(async () => src.connectionCount === 2 && (await counterValue(m.tcpPauses)) > pausesBefore);
        assert.equal(clientDone, false, 'the client is held back while the backend is stalled');
        assert.equal(await received(), before, 'nothing read while the backend has no room');
        stalled = false;
        await Promise.all([written, lateDone]);
        await eventually(() => assert.equal(lineSet(delivered).size, n + 1), 20_000, 100);
        assert.ok(lineSet(delivered).has('bp,host=late v=1i 1'));
        assert.deepEqual([...lineSet(delivered)].slice(0, 2), lines.slice(0, 2));
        assert.equal(await counterValue(m.pointsDropped), 0);
      });
    } finally {
      await fake.close();
    }
  });

  test('a batch the fan-out answers 503 for is retried, not dropped (buffering off: nothing queued)', async () => {
    const fake = await startFakeBackend();
    const delivered: Buffer[] = [];
    fake.setScript((req, i): FakeStep => {
      if (i < 3) return { status: 503, body: '{"error":"overloaded"}' };
      delivered.push(req.body);
      return {};
    });
    const r = rig([httpOutput(fake.writeUrl, { bufferSizeMb: 0 })]);
    try {
      await withSource(r, listener('db', { batchDelayMs: 10 }), async (_src, port) => {
        const client = await connect(port);
        await writeAll(client, 'r v=1i 1\nr v=2i 2\n');
        await eventually(() => assert.deepEqual([...lineSet(delivered)], ['r v=1i 1', 'r v=2i 2']));
        assert.equal(fake.requests.length, 4);
        assert.equal(await counterValue(intakeMetrics(r.metrics).pointsDropped), 0);
      });
    } finally {
      await fake.close();
    }
  });
});
