/**
 * The keys of 2.x backends (type, org, bucket, token) and of TLS trust (ca-file): how they load, and every
 * cross-key rule, each error naming its key path.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, parseConfig } from '../../../src/config/index.js';

/** One [[http]] listener with one output made of `keys`. */
function config(keys: string): string {
  return `[[http]]\nbind-addr = ":9096"\n[[http.output]]\n${keys}\n`;
}

function output(keys: string) {
  return parseConfig(config(keys)).http[0]!.output[0]!;
}

/** Every message of the ConfigError that parsing throws. */
function errors(keys: string): string[] {
  try {
    parseConfig(config(keys));
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message.split('\n');
  }
  assert.fail('parsed without error');
}

const dir = mkdtempSync(join(tmpdir(), 'relay-config-ca-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a v2 output loads with org, token and an optional bucket; type defaults to v1', () => {
  const o = output('location = "http://127.0.0.1:8086"\ntype = "v2"\norg = "acme"\ntoken = "t0k"');
  assert.deepEqual([o.type, o.org, o.bucket, o.token], ['v2', 'acme', undefined, 't0k']);
  const b = output('location = "https://h:8086/api/v2/write"\ntype = "v2"\norg = "o"\nbucket = "metrics"\ntoken = "t"');
  assert.equal(b.bucket, 'metrics');
  assert.equal(output('location = "http://h:8086/write"').type, 'v1');
  assert.deepEqual(errors('location = "http://h:8086/write"\ntype = "v3"'), ['http[0].output[0].type: must be one of v1, v2: "v3"']);
});

test('v2 rules: org and token required, an origin or /api/v2/write location, no other credentials', () => {
  assert.deepEqual(errors('location = "http://h:8086"\ntype = "v2"'), [
    'http[0].output[0].org: required when type = "v2"',
    'http[0].output[0].token: required when type = "v2"',
  ]);
  const v2 = 'type = "v2"\norg = "o"\ntoken = "t"';
  assert.deepEqual(errors(`location = "http://h:8086/write"\n${v2}`), [
    'http[0].output[0].location: a type = "v2" output needs the origin (http://h:8086) or a URL ending in /api/v2/write, not "/write"',
  ]);
  assert.deepEqual(errors(`location = "http://u:p@h:8086"\n${v2}`), [
    'http[0].output[0].location: a type = "v2" output authenticates with token, not credentials in the URL',
  ]);
  assert.deepEqual(errors(`location = "http://h:8086"\n${v2}\nhttp-user = "u"\nhttp-pass = "p"`), [
    'http[0].output[0].http-user: a type = "v2" output authenticates with token, not http-user/http-pass',
  ]);
  // Behind a proxy prefix.
  assert.equal(output(`location = "https://proxy/influx/api/v2/write"\n${v2}`).location, 'https://proxy/influx/api/v2/write');
});

test('v1 rules: no 2.x keys, no 2.x URL', () => {
  assert.deepEqual(errors('location = "http://h:8086/write"\norg = "o"\nbucket = "b"\ntoken = "t"'), [
    'http[0].output[0].org: only for type = "v2" outputs',
    'http[0].output[0].bucket: only for type = "v2" outputs',
    'http[0].output[0].token: only for type = "v2" outputs',
  ]);
  assert.deepEqual(errors('location = "http://h:8086/api/v2/write"'), [
    'http[0].output[0].location: this is a 2.x write URL: set type = "v2" (with org and token), or use the 1.x /write URL',
  ]);
});

test('ca-file: a readable PEM certificate, for an https location, not with skip-tls-verification', () => {
  const good = join(dir, 'ca.pem');
  writeFileSync(good, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const junk = join(dir, 'junk.pem');
  writeFileSync(junk, 'not a certificate\n');
  assert.equal(output(`location = "https://h:8086/write"\nca-file = ${JSON.stringify(good)}`).caFile, good);
  assert.deepEqual(errors(`location = "http://h:8086/write"\nca-file = ${JSON.stringify(good)}`), [
    'http[0].output[0].ca-file: needs an https:// location',
  ]);
  assert.deepEqual(errors(`location = "https://h:8086/write"\nskip-tls-verification = true\nca-file = ${JSON.stringify(good)}`), [
    'http[0].output[0].ca-file: set ca-file or skip-tls-verification, not both',
  ]);
  const missing = join(dir, 'missing.pem');
  const [msg] = errors(`location = "https://h:8086/write"\nca-file = ${JSON.stringify(missing)}`);
  assert.match(msg!, new RegExp(`^http\\[0\\]\\.output\\[0\\]\\.ca-file: cannot read ".*missing\\.pem": ENOENT`));
  assert.deepEqual(errors(`location = "https://h:8086/write"\nca-file = ${JSON.stringify(junk)}`), [
    `http[0].output[0].ca-file: ${JSON.stringify(junk)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
  ]);
  assert.equal(output('location = "https://h:8086/write"\nca-file = ""').caFile, undefined, 'empty means unset');
});
