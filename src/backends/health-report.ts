/** What a backend reports about itself: /health, /health/backends/<name>, the status page and the metrics read it. */
import type { BackendState } from './sender.js';

export interface BackendHealth {
  readonly name: string;
  readonly location: string;
  readonly state: BackendState;
  readonly acceptingWrites: boolean;
  readonly queueBytes: number;
  readonly queueBatches: number;
  readonly queueCapacityBytes: number;
  readonly oldestBatchAgeMs: number;
  readonly inFlight: number;
  /** Unrepaired missed windows in the ledger (see `influx-relay missed`); absent without a ledger. */
  readonly missedWindows?: number;
  readonly lastError?: { readonly at: string; readonly message: string };
}
