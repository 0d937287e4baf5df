/**
 * The shared queue suite, run against a spool view. The view is offered a batch only after the spool appended it,
 * as the fan-out does; the adapter below does exactly that (append, then offer the same object) and nothing else.
 */
import type { BatchQueue } from '../../../../src/queue/queue.js';
import { queueContract } from '../../../contract/queue-contract.js';
import { openSpool, tempDir } from './spool-helpers.js';

queueContract('Spool view', async (capacity): Promise<BatchQueue> => {
  const spool = await openSpool(await tempDir(), { backends: ['b'], maxBytesPerBackend: capacity });
  const view = spool.queue('b');
  return {
    get bytes() {
      return view.bytes;
    },
    get length() {
      return view.length;
    },
    get pending() {
      return view.pending;
    },
    get capacityBytes() {
      return view.capacityBytes;
    },
    oldestReceivedAt: () => view.oldestReceivedAt(),
    offer(batch) {
      // A refused append (full) rejects; the view then answers 'full' for that batch.
      spool.append(batch).catch(() => undefined);
      return view.offer(batch);
    },
    lease: (max) => view.lease(max),
    ack: (l) => view.ack(l),
    release: (l) => view.release(l),
  };
});
