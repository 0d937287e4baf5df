/**
 * The relay with the V8 CPU profiler on, for BENCH_PROFILE=1: `node dist/test/bench/profiled-relay.js -config x.toml`.
 * (`--cpu-prof` is refused in NODE_OPTIONS and the spawn helper puts no flags before the script, hence this wrapper.)
 * The profile is written to $BENCH_CPU_PROF_DIR/relay-<pid>.cpuprofile when the process exits; the in-thread
 * inspector session answers synchronously, so an 'exit' handler can still stop the profiler and save it.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { RELAY_MAIN } from '../helpers/relay.js';

const dir = process.env.BENCH_CPU_PROF_DIR ?? '.';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
process.on('exit', () => {
  session.post('Profiler.stop', (err, res) => {
    if (err) process.stderr.write(`profiled-relay: ${err.message}\n`);
    else writeFileSync(path.join(dir, `relay-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
  });
});
await import(RELAY_MAIN);
