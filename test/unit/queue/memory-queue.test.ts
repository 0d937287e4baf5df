import type { Batch } from '../../../src/batch.js';
import { MemoryQueue } from '../../../src/queue/memory-queue.js';
import { queueContract } from '../../contract/queue-contract.js';

queueContract('MemoryQueue', (capacity) => {
  const q = new MemoryQueue(capacity);
  return Object.assign(q, { add: async (b: Batch) => q.offer(b) });
});
