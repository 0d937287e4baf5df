/**
 * The status pages in a real headless browser (Debian chromium driven by playwright-core): the relay's own page
 * (GET / on its HTTP listener) and the cluster page (`influx-relay status -cluster FILE --serve`), over the whole HA
 * stack (real HAProxy, two built relays, two real influxd). Both render every backend as up; then one influxd is
 * killed and, with writes still coming, both pages turn that database red within a few seconds.
 * STATUS_SCREENSHOTS_DIR=docs keeps a screenshot of each page there (docs/status-page.png, docs/cluster-status.png).
 * Skipped, saying why, when HAProxy is not installed or chromium cannot start.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { OutputCapture, terminate, track } from '../helpers/children.js';
import { HAPROXY_BIN, startHaStack, type HaStack } from '../helpers/ha-stack.js';
import { post, waitForStatus } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { RELAY_MAIN } from '../helpers/relay.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SHOTS = process.env.STATUS_SCREENSHOTS_DIR ?? tmpdir();
const RED = 'rgb(207, 34, 46)';

let browser: Browser | undefined;
let skip: string | false = !existsSync(HAPROXY_BIN) && `skipped: ${HAPROXY_BIN} is not installed (Debian package haproxy)`;
let stack: HaStack;
let statusServer: ChildProcess;
let clusterUrl: string;

async function writes(url: string, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const lines = Array.from({ length: 50 }, (_, j) => `status,src=${tag} v=${i * 50 + j}i ${Date.now() * 1e6 + j}`).join('\n');
    await post(`${url}/write?db=${stack.database}`, lines, { timeoutMs: 5000 });
  }
}

async function colourOf(page: Page, selector: string): Promise<string> {
  return page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).backgroundColor`);
}

describe('status pages in chromium', { skip }, () => {
  before(async () => {
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    } catch (err) {
      skip = `skipped: chromium cannot launch (${CHROMIUM}; Debian package chromium): ${String(err).split('\n')[0]}`;
      return;
    }
    stack = await startHaStack({ health: { inter: '500ms', fall: 2, rise: 1 } });
    const port = await freePort();
    statusServer = spawn(process.execPath, [RELAY_MAIN, 'status', '-cluster', stack.clusterFile, '--serve', `:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(statusServer);
    const out = new OutputCapture();
    out.attach(statusServer);
    clusterUrl = `http://127.0.0.1:${port}`;
    await waitForStatus(`${clusterUrl}/cluster.json`, { status: 200, timeoutMs: 10_000, abort: () => (statusServer.exitCode !== null ? new Error(out.text()) : undefined) });
  });

  after(async () => {
    await browser?.close();
    if (statusServer) await terminate(statusServer, 5000);
    await stack?.destroy();
  });

  test('both pages show every backend up, and a killed database red within seconds', async (t) => {
    if (skip || !browser) return t.skip(skip || 'no browser');
    const relay = stack.relays[0]!;
    const relayPage = await browser.newPage({ viewport: { width: 1500, height: 560 } });
    const clusterPage = await browser.newPage({ viewport: { width: 1500, height: 620 } });
    await relayPage.goto(`${relay.url}/`);
    await clusterPage.goto(`${clusterUrl}/`);

    await writes(stack.url, 5, 'before');
    for (const db of ['influxdb-a', 'influxdb-b']) {
      await relayPage.waitForSelector(`#backends tr[data-backend="${db}"][data-state="up"]`, { timeout: 10_000 });
      await clusterPage.waitForSelector(`#databases tr[data-database="${db}"][data-state="up"]`, { timeout: 15_000 });
    }
    for (const r of ['relay-1', 'relay-2']) await clusterPage.waitForSelector(`#relays tr[data-relay="${r}"][data-state="up"]`, { timeout: 10_000 });
    assert.match(await relayPage.textContent('#banner') ?? '', /accepting writes/);
    assert.match(await relayPage.textContent('#listeners') ?? '', /http/);

    // The same view in the terminal: one snapshot, exit 0 while everything is up.
    const { stdout } = await promisify(execFile)(process.execPath, [RELAY_MAIN, 'status', '-cluster', stack.clusterFile], { timeout: 15_000 });
    assert.match(stdout, /^relay-1\s+UP L7OK\s+accepting writes/m, stdout);
    assert.match(stdout, /^influxdb-b\s+ok\s+UP L7OK\s+fresh\s+up/m, stdout);

    // influxdb-b goes away; writes keep coming (a backend is marked down when a delivery to it fails).
    await stack.databases[1]!.influxd.kill();
    const started = Date.now();
    let writing = true;
    const load = (async () => {
      while (writing) {
        await writes(relay.url, 1, 'after');
        await writes(stack.url, 1, 'after');
      }
    })();
    try {
      const down = '#backends tr[data-backend="influxdb-b"][data-state="down"]';
      await relayPage.waitForSelector(down, { timeout: 10_000 });
      assert.equal(await colourOf(relayPage, `${down} .badge`), RED, 'the relay page shows the down backend in red');
      await relayPage.waitForSelector('#backends tr[data-backend="influxdb-a"][data-state="up"]');
      const dbDown = '#databases tr[data-database="influxdb-b"][data-state="down"]';
      await clusterPage.waitForSelector(dbDown, { timeout: 10_000 });
      assert.equal(await colourOf(clusterPage, `${dbDown} td:nth-child(2) .badge`), RED, 'the cluster page shows the database down in red');
      t.diagnostic(`both pages red ${Date.now() - started} ms after the kill`);
      // The pictures once the rates are in (they need two samples) and a backlog shows for the dead database.
      await relayPage.waitForFunction(`/\\/s/.test(document.querySelector('#backends tr[data-backend="influxdb-a"] td:nth-child(8)').textContent)`);
      await relayPage.waitForFunction(`document.querySelector('#backends tr[data-backend="influxdb-b"] td:nth-child(5)').textContent !== '0'`);
      await relayPage.screenshot({ path: path.join(SHOTS, 'status-page.png'), fullPage: true });
      await clusterPage.screenshot({ path: path.join(SHOTS, 'cluster-status.png'), fullPage: true });
    } finally {
      writing = false;
      await load;
    }
  });
});
