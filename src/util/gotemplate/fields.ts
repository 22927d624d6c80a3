// Which top-level fields (`.Name`, `.ID`, …) a template reads from its data. The
// docker CLI's table headers are rendered from a map of exactly those fields.

import type { ArgNode, Node, PipeNode } from './ast.js';

function fromArg(arg: ArgNode, out: Set<string>): void {
  if (arg.kind === 'field' && arg.idents.length > 0) out.add(arg.idents[0]);
  if (arg.kind === 'pipe') fromPipe(arg.pipe, out);
  if (arg.kind === 'chain') fromArg(arg.node, out);
}

function fromPipe(pipe: PipeNode | undefined, out: Set<string>): void {
  for (const cmd of pipe?.cmds ?? []) for (const arg of cmd.args) fromArg(arg, out);
}

function fromList(list: Node[] | undefined, out: Set<string>): void {
  for (const node of list ?? []) {
    if ('pipe' in node) fromPipe(node.pipe, out);
    if (node.kind === 'if' || node.kind === 'with' || node.kind === 'range') {
      fromList(node.list, out);
      fromList(node.elseList, out);
    }
  }
}

/** Field names in order of first use (fields read inside range/with bodies included). */
export function referencedFields(root: Node[]): string[] {
  const out = new Set<string>();
  fromList(root, out);
  return [...out];
}
