/**
 * undici's Pool, without the rest of undici. `import { Pool } from 'undici'` evaluates all of undici (fetch,
 * WebSocket, the cache, mocks), ~6 MB of resident memory at start-up that the relay never uses. These are the files
 * undici's own index.js composes for `new Pool(...)` and `pool.request(...)`: the pool class, and the request API it
 * mixes into Dispatcher.prototype (the same assignment index.js makes, so loading both is harmless). undici 7 has no
 * "exports" map, so these paths are reachable; the lockfile pins them and the writer's tests fail if a release moves
 * them.
 */
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);
const dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
Object.assign(dispatcher.prototype, require('undici/lib/api/index.js') as object);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;
