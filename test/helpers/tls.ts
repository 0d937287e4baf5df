// Certificates for TLS tests, made at test time with the system's openssl in a temp dir:
// a private CA and a server certificate it signs (for 127.0.0.1 and localhost), and a
// self-signed certificate+key in one PEM (what `ssl-combined-pem` takes).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trackDir, untrackDir } from './children.js';

export interface TestCerts {
  readonly dir: string;
  /** The CA certificate (PEM file path and text). */
  readonly caFile: string;
  readonly ca: string;
  /** Server certificate signed by the CA, and its key. */
  readonly cert: string;
  readonly key: string;
  /** A self-signed certificate followed by its key, in one file (for `ssl-combined-pem`). */
  readonly combinedFile: string;
  /** That self-signed certificate alone (to trust it). */
  readonly selfSigned: string;
  remove(): void;
}

const SUBJECT_ALT_NAME = 'subjectAltName=IP:127.0.0.1,DNS:localhost';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-tls-'));
  trackDir(dir);
  openssl(dir, ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=relay test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(dir, ['req', '-new', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(path.join(dir, 'server.ext'), `${SUBJECT_ALT_NAME}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
  openssl(dir, ['req', '-x509', ...EC, '-keyout', 'self.key', '-out', 'self.pem', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', SUBJECT_ALT_NAME]);
  const read = (f: string): string => readFileSync(path.join(dir, f), 'utf8');
  const combinedFile = path.join(dir, 'combined.pem');
  writeFileSync(combinedFile, read('self.pem') + read('self.key'));
  return {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    ca: read('ca.pem'),
    cert: read('server.pem'),
    key: read('server.key'),
    combinedFile,
    selfSigned: read('self.pem'),
    remove() {
      rmSync(dir, { recursive: true, force: true });
      untrackDir(dir);
    },
  };
}
