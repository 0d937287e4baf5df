/**
 * An HttpSource on a free loopback port with a stub fan-out (records batches; can hold writes in flight), a silent
 * logger and its own metrics registry: for tests of the listener itself, through node:http.
 */
import http from 'node:http';
import pino from 'pino';
import type { BackendHealth } from '../../../src/backends/backend.js';
import type { Batch } from '../../../src/batch.js';
import type { FanOut, FanOutResult } from '../../../src/fanout.js';
import { HttpSource, type HttpSourceOptions } from '../../../src/sources/http.js';
import { RelayMetrics } from '../../../src/telemetry/metrics.js';

export class StubFanOut {
  readonly batches: Batch[] = [];
  private readonly reports = [fakeBackend('b')];
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  /** Writes wait (their bodies stay in flight) until release(). */
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  health(): BackendHealth[] {
    return this.reports;
  }

  journalHealth(): undefined {
    return undefined;
  }

  async write(batch: Batch): Promise<FanOutResult> {
    if (batch.target.db === 'explode') throw new Error('a bug in the fan-out');
    this.batches.push(batch);
    await this.gate;
    return { kind: 'accepted', status: 204, delivered: 1 };
  }
}

export function fakeBackend(name: string): BackendHealth {
  return {
    name,
    location: `http://${name}/write`,
    state: 'up',
    acceptingWrites: true,
    queueBytes: 0,
    queueBatches: 0,
    queueCapacityBytes: 1000,
    oldestBatchAgeMs: 0,
    inFlight: 0,
  };
}

export interface TestSource {
  readonly source: HttpSource;
  readonly url: string;
  readonly fanout: StubFanOut;
  readonly metrics: RelayMetrics;
  /** influx_relay_requests_refused_total for this listener and reason. */
  refused(reason: string): Promise<number>;
  close(): Promise<void>;
}

export async function startTestSource(options: Partial<HttpSourceOptions> = {}, fanout = new StubFanOut()): Promise<TestSource> {
  const metrics = new RelayMetrics({ processMetrics: false });
  const source = new HttpSource(
    {
      listener: 'test',
      bindAddr: '127.0.0.1:0',
      defaultRetentionPolicy: '',
      defaultConsistency: 'any',
      maxBodyBytes: 1 << 20,
      headerTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      idleTimeoutMs: 60_000,
      pingStatus: 204,
      ...options,
    },
    fanout as unknown as FanOut,
    metrics,
    pino({ level: 'silent' }),
  );
  await source.start();
  return {
    source,
    url: `http://127.0.0.1:${source.address!.port}`,
    fanout,
    metrics,
    async refused(reason) {
      const m = await metrics.requestsRefused.get();
      return m.values.find((v) => v.labels.listener === 'test' && v.labels.reason === reason)?.value ?? 0;
    },
    close: () => source.close(Date.now() + 1000),
  };
}

/** A POST whose body is sent chunked (no Content-Length), as streaming clients do. */
export function postChunked(
  url: string,
  chunks: readonly Buffer[],
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}
