import { MemoryQueue } from '../../../src/queue/memory-queue.js';
import { queueContract } from '../../contract/queue-contract.js';

queueContract('MemoryQueue', (capacity) => new MemoryQueue(capacity));
