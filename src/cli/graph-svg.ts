import { pathToFileURL } from 'node:url';
import type { ELK } from 'elkjs/lib/elk-api.js';
import type { Topology } from '../engine/topology.js';
import { drawSvg, elkGraph, shapesOf } from '../ui/picture.js';

// `berth system graph --format svg`: the topology drawn (src/ui/picture.ts, the same
// picture the topology page shows), laid out by elkjs (the Eclipse Layout Kernel), which
// is loaded by this command only: not bundled into the CLI, a large module every other
// command would pay for at start.

export async function toSvg(t: Topology): Promise<string> {
  // CommonJS: its constructor is module.exports. The startup snapshot is CommonJS too, with
  // no import.meta: there argv[1] is the plain bundle's path, next to which node_modules is.
  const { createRequire } = await import('node:module');
  const Elk = createRequire(import.meta.url ?? pathToFileURL(process.argv[1]!).href)('elkjs/lib/elk.bundled.js') as new () => ELK;
  const { boxes, edges } = shapesOf(t);
  return drawSvg(await new Elk().layout(elkGraph(boxes, edges)), boxes, edges);
}
