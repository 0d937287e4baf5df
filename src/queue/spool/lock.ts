/**
 * The spool directory's lock: two relays appending to one log would interleave records.
 *
 * The lock is a listening Unix domain socket, because the kernel closes it when its holder dies (kill -9, OOM) even
 * while the dead process is still an unreaped zombie, and a PID that was recycled (pid 1 in a container) means
 * nothing to it. Node has no flock(2). Taking the lock:
 * - listen on `<dir>/LOCK.sock`; EADDRINUSE → connect to it: accepted → a live process holds the directory (refused);
 *   ECONNREFUSED/ENOENT → a socket file left by a dead holder: remove it and listen again.
 * - A socket path is limited to 107 bytes (sun_path). For a longer directory path the socket is a Linux abstract
 *   socket (no file, released by the kernel like the other) named from a hash of the directory's device and inode:
 *   the same directory under any path or bind mount gets the same name. Abstract names are per network namespace,
 *   so two containers sharing one volume are only kept apart by the path form; keep spool-dir short for that.
 *   (Binding a relative path after chdir would also fit, but chdir changes the whole server's working directory.)
 * - `LOCK` holds the holder's pid for humans (`cat LOCK`); nothing decides on it.
 * Taking over a stale socket file is not atomic: two relays started in the same instant after a crash of a third
 * could both win. Starting two relays on one directory at once is a deployment error this does not aim to catch.
 */
import { createHash } from 'node:crypto';
import { createConnection, createServer, type Server } from 'node:net';
import { readFile, realpath, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolLockedError } from './errors.js';

export const LOCK_FILE = 'LOCK';
export const LOCK_SOCKET = 'LOCK.sock';

/** sun_path is 108 bytes on Linux, NUL included. */
const MAX_SOCKET_PATH = 107;

export class DirLock {
  private constructor(
    private readonly dir: string,
    private readonly server: Server,
  ) {}

  /** Takes the directory for this process, or throws SpoolLockedError when a live process holds it. */
  static async take(dir: string): Promise<DirLock> {
    const path = await socketPath(dir);
    for (let attempt = 0; ; attempt++) {
      const server = createServer((conn) => conn.destroy());
      const err = await listen(server, path);
      if (!err) {
        server.unref();
        await writePid(dir);
        return new DirLock(dir, server);
      }
      if (err.code !== 'EADDRINUSE' || attempt > 0) throw err;
      const holder = await probe(path);
      if (holder === 'live') {
        throw new SpoolLockedError(dir, await readPid(dir));
      }
      await unlink(path).catch(() => undefined); // left by a holder that died: the kernel already let go of it
    }
  }

  /** Releases the lock (the socket file is removed when the server closes). Idempotent. */
  async release(): Promise<void> {
    await unlink(join(this.dir, LOCK_FILE)).catch(() => undefined);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function socketPath(dir: string): Promise<string> {
  const path = join(await realpath(dir), LOCK_SOCKET);
  if (Buffer.byteLength(path) <= MAX_SOCKET_PATH) return path;
  const st = await stat(dir);
  const id = createHash('sha256').update(`${st.dev}:${st.ino}`).digest('hex').slice(0, 32);
  return `\0influxdb-relay-spool-${id}`;
}

function listen(server: Server, path: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException) => resolve(err);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve(undefined);
    });
  });
}

/** Whether a process still listens on the socket: refused or gone means nobody does; anything else, assume someone. */
function probe(path: string): Promise<'live' | 'stale'> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve('live');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'stale' : 'live'));
  });
}

/** Best effort: on a full disk even these few bytes may not fit, and the relay must still start. */
async function writePid(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  await writeFile(path, `${process.pid}\n`, { mode: 0o600 }).catch(() => unlink(path).catch(() => undefined));
}

async function readPid(dir: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(dir, LOCK_FILE), 'utf8').catch(() => '')).trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
