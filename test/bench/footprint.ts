/**
 * Idle footprint of the built relay (not part of `make bench`; docs/benchmarks.md, "Footprint"):
 *
 *   node dist/test/bench/footprint.js [runs]
 *
 * Starts the relay with the sink scenario's shape (one [[http]] listener, two outputs; the outputs need not be up) and
 * reads its VmRSS 4 s and 15 s after it answered /ping: V8's memory reducer runs ~8 s after start, so the second is
 * the steady idle value. Prints one JSON line per run and the medians. RELAY_MAIN picks another build to compare.
 */
import { freePort } from '../helpers/ports.js';
import { relayToml, startRelay } from '../helpers/relay.js';
import { rssMiB } from './proc.js';
import { median } from './stats.js';

const runs = Number(process.argv[2] ?? 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const at4: number[] = [];
const at15: number[] = [];
for (let i = 0; i < runs; i++) {
  const outputs = [
    { name: 'sink-a', location: `http://127.0.0.1:${await freePort()}/write` },
    { name: 'sink-b', location: `http://127.0.0.1:${await freePort()}/write` },
  ];
  const relay = await startRelay({ toml: 'log-level = "warn"\n' + relayToml({ bindAddr: `127.0.0.1:${await freePort()}`, name: 'bench', outputs }) });
  try {
    await sleep(4000);
    at4.push(rssMiB(relay.pid));
    await sleep(11_000);
    at15.push(rssMiB(relay.pid));
    process.stdout.write(`${JSON.stringify({ run: i + 1, rssMiB4s: at4.at(-1), rssMiB15s: at15.at(-1) })}\n`);
  } finally {
    await relay.stop();
    await relay.destroy();
  }
}
process.stdout.write(`${JSON.stringify({ medianRssMiB4s: median(at4), medianRssMiB15s: median(at15) })}\n`);
