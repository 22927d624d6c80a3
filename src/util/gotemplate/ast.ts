// Parse tree of a Go text/template. `describe` renders a node the way Go's
// Node.String() does, for the `at <…>` part of execution errors.

export interface Positioned { pos: number }

export type ArgNode =
  | { kind: 'field'; pos: number; idents: string[] }
  | { kind: 'variable'; pos: number; name: string; idents: string[] }
  | { kind: 'chain'; pos: number; node: ArgNode; idents: string[] }
  | { kind: 'identifier'; pos: number; name: string }
  | { kind: 'dot'; pos: number }
  | { kind: 'nil'; pos: number }
  | { kind: 'bool'; pos: number; value: boolean }
  | { kind: 'number'; pos: number; value: number; text: string }
  | { kind: 'string'; pos: number; value: string; text: string }
  | { kind: 'pipe'; pos: number; pipe: PipeNode };

export interface CommandNode { pos: number; args: ArgNode[] }

export interface PipeNode {
  pos: number;
  /** `$x = …` assigns an existing variable; `$x := …` declares one. */
  isAssign: boolean;
  decl: string[];
  cmds: CommandNode[];
}

export type Node =
  | { kind: 'text'; pos: number; text: string }
  | { kind: 'action'; pos: number; pipe: PipeNode }
  | { kind: 'if' | 'with' | 'range'; pos: number; pipe: PipeNode; list: Node[]; elseList?: Node[] }
  | { kind: 'break' | 'continue'; pos: number }
  | { kind: 'template'; pos: number; name: string; pipe?: PipeNode };

export function describeArg(arg: ArgNode): string {
  switch (arg.kind) {
    case 'field': return arg.idents.map((i) => '.' + i).join('');
    case 'variable': return [arg.name, ...arg.idents].join('.');
    case 'chain': {
      const inner = arg.node.kind === 'pipe' ? `(${describeArg(arg.node)})` : describeArg(arg.node);
      return inner + arg.idents.map((i) => '.' + i).join('');
    }
    case 'identifier': return arg.name;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(arg.value);
    case 'number': case 'string': return arg.text;
    case 'pipe': return describePipe(arg.pipe);
  }
}

export function describeCommand(cmd: CommandNode): string {
  return cmd.args.map((a) => (a.kind === 'pipe' ? `(${describeArg(a)})` : describeArg(a))).join(' ');
}

export function describePipe(pipe: PipeNode): string {
  const decl = pipe.decl.length ? `${pipe.decl.join(', ')} ${pipe.isAssign ? '=' : ':='} ` : '';
  return decl + pipe.cmds.map(describeCommand).join(' | ');
}
