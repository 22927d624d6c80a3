/// <reference lib="dom" />
import type { ELK } from 'elkjs/lib/elk-api.js';
import type { Topology } from '../engine/topology.js';
import { drawSvg, elkGraph, shapesOf } from './picture.js';

// The topology page (berthd --ui): draws GET graph with elkjs, and draws it again on every
// event berthd sends (server-sent events: a container started, stopped, connected …), no
// reload. A network with many containers starts collapsed (one box says how many); a
// click on a network folds or unfolds it. Bundled by esbuild into dist/ui/app.js; elkjs
// is the page's other script (served from the npm package: no CDN).

declare const ELK: new () => ELK;

/** networks with more containers than this start collapsed (1,000 containers stay readable) */
const FOLD_ABOVE = 40;
const elk = new ELK();
const collapsed = new Set<string>();
const seen = new Set<string>();
let drawing = Promise.resolve();
let again = false;

async function draw(): Promise<void> {
  const t = (await (await fetch('graph')).json()) as Topology;
  for (const n of t.networks) {
    if (seen.has(n.name)) continue;
    seen.add(n.name);
    if (t.containers.filter((c) => c.interfaces.some((i) => i.network === n.name)).length > FOLD_ABOVE) collapsed.add(n.name);
  }
  const { boxes, edges } = shapesOf(t, collapsed);
  const svg = drawSvg(await elk.layout(elkGraph(boxes, edges)), boxes, edges);
  const root = document.getElementById('graph')!;
  root.innerHTML = svg;
  root.dataset.containers = String(t.containers.length);
  document.getElementById('status')!.textContent = `${t.networks.length} networks, ${t.containers.length} containers, ${t.ports.length} published ports · updated ${new Date().toLocaleTimeString()}`;
}

/** One drawing at a time; changes meanwhile make one more. */
function redraw(): void {
  if (again) return;
  again = true;
  drawing = drawing.then(() => {
    again = false;
    return draw();
  }).catch((err: Error) => {
    document.getElementById('status')!.textContent = `cannot draw: ${err.message}`;
  });
}

document.getElementById('graph')!.addEventListener('click', (e) => {
  const g = (e.target as Element).closest('g.network');
  const id = g?.getAttribute('data-id');
  if (!id) return;
  const name = id.slice('net:'.length);
  if (!collapsed.delete(name)) collapsed.add(name);
  redraw();
});

new EventSource('events').addEventListener('message', () => redraw());
redraw();
