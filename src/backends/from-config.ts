/** Builds a Backend, with its own queue, writer and dead-letter file, from an output section of the config. */
import { readFileSync } from 'node:fs';
import type { WhenFull } from '../config/enums.js';
import type { HttpOutputConfig } from '../config/types.js';
import { MemoryQueue } from '../queue/memory-queue.js';
import type { BatchQueue, OfferQueue } from '../queue/queue.js';
import type { Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { Backend, type BackendOptions, type MissedWindowSink } from './backend.js';
import { FileDeadLetters } from './dead-letters.js';
import { Writer } from './writer.js';

const MB = 1024 * 1024;
const KB = 1024;

export interface BackendContext {
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly whenFull: WhenFull;
  /** The backend's view of the listener's spool, when there is one; a memory queue of `buffer-size-mb` otherwise. */
  readonly queue?: BatchQueue;
  /** Where dead letters go when `dead-letter-file` is not set (the spool's directory, when there is one). */
  readonly defaultDeadLetterFile?: string;
  readonly missed?: MissedWindowSink;
  /** Builds the memory queue (the relay wraps it to keep the ledger's backlog summary); a plain one otherwise. */
  readonly memoryQueue?: (capacityBytes: number) => OfferQueue;
}

/** A backend's options from its output section. A spooled backend always retries: its writes are on disk. */
export function backendOptions(cfg: HttpOutputConfig, ctx: { readonly whenFull: WhenFull; readonly spooled: boolean }): BackendOptions {
  const retry = ctx.spooled || cfg.bufferSizeMb > 0;
  return {
    name: cfg.name,
    location: cfg.location,
    retry,
    maxBatchBytes: cfg.maxBatchKb * KB,
    initialDelayMs: cfg.initialDelayIntervalMs,
    maxDelayMs: cfg.maxDelayIntervalMs,
    deadLetterAfterMs: cfg.deadLetterAfterMs,
    // Without buffering, writes are independent tries: do not serialize them behind each other.
    maxInFlight: retry ? cfg.maxInFlight : Math.max(cfg.maxInFlight, cfg.connections),
    // Without buffering there is nothing to drop: a write that finds no room is refused.
    whenFull: retry ? ctx.whenFull : 'reject',
  };
}

/** A memory queue's bound: buffer-size-mb, or without buffering (0) a small window for the writes in flight. */
export function memoryCapacity(cfg: HttpOutputConfig, options: BackendOptions): number {
  return options.retry ? cfg.bufferSizeMb * MB : Math.max(8 * options.maxBatchBytes, 8 * MB);
}

export function backendFromConfig(cfg: HttpOutputConfig, ctx: BackendContext): Backend {
  const deadLetterFile = cfg.deadLetterFile ?? ctx.defaultDeadLetterFile;
  const options = backendOptions(cfg, { whenFull: ctx.whenFull, spooled: ctx.queue !== undefined });
  const capacity = memoryCapacity(cfg, options);
  const backend = new Backend(options, {
    queue: ctx.queue ?? ctx.memoryQueue?.(capacity) ?? new MemoryQueue(capacity),
    writer: writerFromConfig(cfg),
    logger: ctx.logger,
    metrics: ctx.metrics,
    ...(deadLetterFile ? { deadLetters: new FileDeadLetters(deadLetterFile) } : {}),
    ...(ctx.missed ? { missed: ctx.missed } : {}),
  });
  ctx.metrics.trackQueue(backend);
  return backend;
}

/** The output's writer: its API (v1 or v2), credentials and TLS trust. The only place a Writer is built. */
export function writerFromConfig(cfg: HttpOutputConfig): Writer {
  return new Writer({
    location: cfg.location,
    timeoutMs: cfg.timeoutMs,
    connections: cfg.connections,
    skipTlsVerification: cfg.skipTlsVerification,
    // The loader checked the file; read it once here, so a certificate rotated later takes a restart.
    ...(cfg.caFile !== undefined ? { ca: readFileSync(cfg.caFile) } : {}),
    ...(cfg.httpUser !== undefined ? { httpUser: cfg.httpUser, httpPass: cfg.httpPass ?? '' } : {}),
    ...(cfg.type === 'v2' ? { v2: { org: cfg.org ?? '', token: cfg.token ?? '', ...(cfg.bucket !== undefined ? { bucket: cfg.bucket } : {}) } } : {}),
  });
}
