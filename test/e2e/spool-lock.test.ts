/**
 * The spool directory lock, as an operator meets it: a relay started through `sh -c`, its process group killed with
 * SIGKILL, restarted at once, must start (the dead relay may still be an unreaped zombie, or its pid recycled); a
 * second relay on a directory a live relay holds is refused with a clear error.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { waitForStatus } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { RELAY_MAIN, relayToml, runRelayToExit, startRelay } from '../helpers/relay.js';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

/** A relay config whose spool is `<dir>/spool`; the backend is down (irrelevant to the lock). */
async function config(dir: string): Promise<{ toml: string; url: string }> {
  const port = await freePort();
  const down = await freePort();
  const toml =
    `spool-dir = ${JSON.stringify(join(dir, 'spool'))}\n` +
    relayToml({ bindAddr: `127.0.0.1:${port}`, name: 'locked', outputs: [{ name: 'a', location: `http://127.0.0.1:${down}/write` }] });
  return { toml, url: `http://127.0.0.1:${port}` };
}

/** `sh -c 'node main.js -config relay.toml'` as the leader of a new process group, the way the report started it. */
function startViaShell(dir: string): ChildProcess {
  const sh = spawn('sh', ['-c', `'${process.execPath}' '${RELAY_MAIN}' -config relay.toml`], { cwd: dir, detached: true, stdio: 'ignore' });
  cleanup.push(async () => {
    try {
      process.kill(-sh.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  });
  return sh;
}

test('kill -9 on the process group of a relay started via sh -c, restarted at once: it starts, 3 times out of 3', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'relay-lock-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const { toml, url } = await config(dir);
  await writeFile(join(dir, 'relay.toml'), toml);
  for (let round = 1; round <= 3; round++) {
    const sh = startViaShell(dir);
    await waitForStatus(`${url}/ping`, { abort: () => (sh.exitCode !== null ? new Error(`round ${round}: the relay did not start`) : undefined) });
    process.kill(-sh.pid!, 'SIGKILL');
    // No wait for the exit: the killed relay may not even be reaped yet.
    const again = await startRelay({ toml, dir });
    await again.stop();
  }
});

test('a second relay on a spool directory a live relay holds is refused, naming the directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'relay-lock-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const first = await startRelay({ toml: (await config(dir)).toml, dir });
  cleanup.push(() => first.destroy());
  const second = await runRelayToExit({ toml: (await config(dir)).toml });
  assert.equal(second.code, 1, second.output);
  assert.match(second.output, new RegExp(`spool directory ${join(dir, 'spool')}.* is in use by another live relay \\(pid ${first.pid}`));
});
