/**
 * `-check` catches what start would reject or get wrong: each config here passed `-check` and then failed at start
 * (URIError, EADDRINUSE) or shared one spool directory between two listeners. Each must exit 2 naming the key path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runRelayToExit } from '../helpers/relay.js';

const OUT = 'output = [ { name = "a", location = "http://127.0.0.1:1/write" } ]';

const cases: { what: string; toml: string; path: string }[] = [
  {
    what: 'bad percent-encoding in a location password',
    toml: `[[http]]\nbind-addr = "127.0.0.1:0"\noutput = [ { location = "http://u:%ZZ@127.0.0.1:8086/write" } ]\n`,
    path: 'http[0].output[0].location',
  },
  {
    what: '127.0.0.1:P and localhost:P on two HTTP listeners',
    toml: `[[http]]\nbind-addr = "127.0.0.1:19096"\n${OUT}\n[[http]]\nbind-addr = "localhost:19096"\n${OUT}\n`,
    path: 'http[1].bind-addr',
  },
  {
    what: '0.0.0.0:P (HTTP) and 127.0.0.1:P (TCP)',
    toml: `[[http]]\nbind-addr = "0.0.0.0:19096"\n${OUT}\n[[tcp]]\nbind-addr = "127.0.0.1:19096"\ndatabase = "d"\n${OUT}\n`,
    path: 'tcp[0].bind-addr',
  },
  {
    what: 'listener names "web 1" and "web_1" (one spool directory)',
    toml: `spool-dir = "spool"\n[[http]]\nname = "web 1"\nbind-addr = "127.0.0.1:0"\n${OUT}\n[[http]]\nname = "web_1"\nbind-addr = "127.0.0.1:0"\n${OUT}\n`,
    path: 'http[1].name',
  },
];

for (const c of cases) {
  test(`-check exits 2 on ${c.what}`, async () => {
    const r = await runRelayToExit({ toml: c.toml, args: ['-check'] });
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, new RegExp(`relay\\.toml: ${c.path.replace(/[[\].]/g, '\\$&')}: `));
    assert.doesNotMatch(r.output, /%ZZ/, 'a credential must not be echoed');
  });
}
