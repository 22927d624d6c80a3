// The topology page (issue 16): berthd --ui serves it; a real browser (Debian's chromium,
// driven by playwright-core) loads it inside the lab host's netns, finds every network,
// container and port the test made, then sees a container started afterwards appear
// without a reload, and a click fold a network. Screenshots go to the lab dir (and, with
// BERTH_SCREENSHOTS=DIR, to DIR: scripts/screenshots.sh puts them in docs/).
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { labFor, type Lab } from '../lab/lab.js';
import { ok, runSleeper } from './helpers.js';

const PORT = 7070;

/** chromium in the lab host's netns (where berthd's --ui listens); playwright talks to it over a pipe, across namespaces. */
function browserIn(lab: Lab): string {
  const wrapper = join(lab.dir, 'chromium-in-lab');
  writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${lab.hostNs} /usr/bin/chromium "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/** A screenshot into the lab dir, and into $BERTH_SCREENSHOTS when set (scripts/screenshots.sh). */
async function snap(page: Page, lab: Lab, name: string): Promise<void> {
  const path = join(lab.dir, name);
  await page.screenshot({ path, fullPage: true });
  if (process.env.BERTH_SCREENSHOTS) copyFileSync(path, join(process.env.BERTH_SCREENSHOTS, name));
}

test('the topology page draws the network and follows it live, in a real browser', async (t) => {
  const lab = await labFor(t, { startDaemon: false });
  await lab.startDaemon(['--ui', `127.0.0.1:${PORT}`]);
  assert.match(lab.daemonLog(), new RegExp(`topology page on http://127\\.0\\.0\\.1:${PORT}/`));
  await ok(lab, ['network', 'create', '--subnet', '10.71.0.0/24', 'front']);
  await ok(lab, ['network', 'create', '--internal', '--subnet', '10.72.0.0/24', 'back']);
  await runSleeper(lab, 'web', ['--network', 'front', '-p', '8080:80']);
  await ok(lab, ['network', 'connect', 'back', 'web']);
  await runSleeper(lab, 'db', ['--network', 'back']);

  const browser = await chromium.launch({
    executablePath: browserIn(lab),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${PORT}/`);
  for (const id of ['host', 'net:front', 'net:back', 'net:bridge', 'ctr:web', 'ctr:db', 'port:0.0.0.0:8080/tcp']) {
    await page.waitForSelector(`[data-id="${id}"]`, { timeout: 10_000 });
  }
  const webText = await page.textContent('[data-id="ctr:web"]');
  assert.match(webText ?? '', /web\s*running/);
  const svgText = await page.textContent('#graph');
  assert.match(svgText ?? '', /10\.71\.0\.0\/24/, 'the subnet is drawn');
  assert.match(svgText ?? '', /eth1/, 'the second interface is drawn');
  await snap(page, lab, 'topology.png');

  // live: a container started now appears, no reload
  const loads: string[] = [];
  page.on('load', () => loads.push('load'));
  await runSleeper(lab, 'late', ['--network', 'front']);
  await page.waitForSelector('[data-id="ctr:late"]', { timeout: 10_000 });
  await ok(lab, ['rm', '-f', 'db']);
  await page.waitForSelector('[data-id="ctr:db"]', { state: 'detached', timeout: 10_000 });
  assert.deepEqual(loads, [], 'no reload');
  // a click on a network folds its containers into one box
  await page.click('[data-id="net:back"]');
  await page.waitForSelector('[data-id="ctr:web"]', { timeout: 10_000 });
  await page.click('[data-id="net:front"]');
  await page.waitForSelector('[data-id="folded:front"]', { timeout: 10_000 });
  assert.match(await page.textContent('[data-id="folded:front"]') ?? '', /2 containers/);
  await snap(page, lab, 'topology-folded.png');
  assert.deepEqual(errors, [], 'no script errors');

  // off by default; a non-loopback address is served with a warning
  const http = await lab.inHost(['curl', '-s', `http://127.0.0.1:${PORT}/graph`]);
  assert.equal(JSON.parse(http.stdout).containers.length, 2);
  await lab.stopDaemon();
  await lab.startDaemon(['--ui', `0.0.0.0:${PORT}`]);
  assert.match(lab.daemonLog(), /WARNING: --ui 0\.0\.0\.0:7070 is not a loopback address/);
  await lab.stopDaemon();
  await lab.startDaemon([]);
  assert.notEqual((await lab.inHost(['curl', '-s', '-m', '2', `http://127.0.0.1:${PORT}/`])).code, 0, 'no page without --ui');
});
