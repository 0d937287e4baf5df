/**
 * The shared queue suite, run against a spool view. A batch enters as the fan-out puts it there: the spool appends it
 * for every backend, and once that resolves the view holds it; a refused append (full) put it nowhere.
 */
import { SpoolFullError } from '../../../../src/queue/spool/spool.js';
import { queueContract, type ContractQueue } from '../../../contract/queue-contract.js';
import { openSpool, tempDir } from './spool-helpers.js';

queueContract('Spool view', async (capacity): Promise<ContractQueue> => {
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
    async add(batch) {
      try {
        await spool.append(batch);
        return 'queued';
      } catch (err) {
        if (err instanceof SpoolFullError) return 'full';
        throw err;
      }
    },
    lease: (max) => view.lease(max),
    ack: (l) => view.ack(l),
    release: (l) => view.release(l),
  };
});
