// `npm run bench:topology-page`: how fast the topology page (berthd --ui) draws as a host
// grows to 1,000 containers, in a real browser (Debian's chromium, playwright-core), in a
// lab world (scripts/bench.sh). No tool of the field draws this, so there is no anchor:
// the figures are absolute, with their growth. At each size: GET /graph (the data), the
// first full drawing after a load (fetch, elkjs layout, SVG in the DOM), a redraw after one
// more container starts (the live path: event → fetch → layout → DOM), and the DOM's size.
// Networks of more than 40 containers start folded (the page's rule), as a user sees them.
// Env: BENCH_SIZES (100,300,1000), BENCH_NETWORKS (10), BENCH_OUT (bench/results).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Lab } from '../test/lab/lab.js';
import { cpuModel, loadavg } from './lib/host.js';
import { apiOk, log } from './lib/lab-api.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PORT = 7070;


async function run(lab: Lab, name: string, net: string): Promise<void> {
  const c = await apiOk(lab, 'POST', `/containers/create?name=${name}`, { Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: net } });
  await apiOk(lab, 'POST', `/containers/${(c.body as { Id: string }).Id}/start`);
}

interface Row {
  containers: number;
  graphMs: number;
  graphKb: number;
  firstDrawMs: number;
  redrawMs: number;
  domNodes: number;
  boxes: number;
}

async function main(): Promise<void> {
  if (process.env.BERTH_LAB_WORLD !== '1') throw new Error('run this inside a lab world: bash scripts/bench.sh dist/bench/topology-page.js');
  const sizes = (process.env.BENCH_SIZES ?? '100,300,1000').split(',').map(Number);
  const nets = Number(process.env.BENCH_NETWORKS ?? 10);
  const out = process.env.BENCH_OUT || join(REPO, 'bench/results');
  mkdirSync(out, { recursive: true });
  const loadBefore = loadavg();
  const lab = await Lab.create({ startDaemon: false });
  const rows: Row[] = [];
  try {
    await lab.startDaemon(['--ui', `127.0.0.1:${PORT}`]);
    for (let k = 0; k < nets; k++) await apiOk(lab, 'POST', '/networks/create', { Name: `pg${k}`, IPAM: { Config: [{ Subnet: `10.${100 + k}.0.0/16` }] } });
    const wrapper = join(lab.dir, 'chromium-in-lab');
    writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${lab.hostNs} /usr/bin/chromium "$@"\n`);
    chmodSync(wrapper, 0o755);
    const browser = await chromium.launch({ executablePath: wrapper, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      let made = 0;
      for (const size of sizes) {
        while (made < size) await run(lab, `pg-c${made}`, `pg${made++ % nets}`);
        const t0 = performance.now();
        const g = await apiOk(lab, 'GET', '/berth/graph');
        const graphMs = performance.now() - t0;
        const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
        const t1 = performance.now();
        await page.goto(`http://127.0.0.1:${PORT}/`);
        await page.waitForFunction((n) => document.getElementById('graph')?.dataset.containers === String(n), made, { timeout: 120_000 });
        const firstDrawMs = performance.now() - t1;
        // the live path: one more container, drawn without a reload
        const t2 = performance.now();
        await run(lab, `pg-c${made}`, 'pg0');
        made++;
        await page.waitForFunction((n) => document.getElementById('graph')?.dataset.containers === String(n), made, { timeout: 120_000 });
        const redrawMs = performance.now() - t2;
        const domNodes = await page.evaluate(() => document.getElementsByTagName('*').length);
        const boxes = await page.evaluate(() => document.querySelectorAll('#graph g[data-id]').length);
        if (size === sizes[sizes.length - 1]) await page.screenshot({ path: join(out, 'topology-page-1000.png') });
        await page.close();
        rows.push({ containers: size, graphMs, graphKb: g.text.length / 1024, firstDrawMs, redrawMs, domNodes, boxes });
        log(`${size} containers: graph ${graphMs.toFixed(1)} ms (${(g.text.length / 1024).toFixed(0)} KB), first draw ${firstDrawMs.toFixed(0)} ms, redraw ${redrawMs.toFixed(0)} ms, ${domNodes} DOM nodes`);
      }
    } finally {
      await browser.close();
    }
  } finally {
    await lab.destroy();
  }
  const base = rows[0]!;
  const md = [
    `# Topology page (\`npm run bench:topology-page\`)`,
    '',
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpuModel()}, load before ${loadBefore}; headless Debian chromium; ${nets} bridge networks, containers round-robin over them; networks of more than 40 containers start folded (the page's rule).`,
    '',
    '| containers | GET /graph | its size | first draw after load | redraw after one more container starts (event → fetch → layout → DOM) | DOM nodes | boxes drawn | first draw vs the smallest |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.containers} | ${r.graphMs.toFixed(1)} ms | ${r.graphKb.toFixed(0)} KB | ${r.firstDrawMs.toFixed(0)} ms | ${r.redrawMs.toFixed(0)} ms | ${r.domNodes} | ${r.boxes} | ${(r.firstDrawMs / base.firstDrawMs).toFixed(2)}x for ${(r.containers / base.containers).toFixed(0)}x containers |`),
    '',
  ].join('\n');
  writeFileSync(join(out, 'topology-page.md'), md);
  process.stdout.write(md);
}

await main();
