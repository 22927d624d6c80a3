import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { berthProgram } from './program.js';

// At the snapshot's build (snapshot.ts): each hot command is parsed by a throwaway command
// tree and run, against a daemon that is not there, up to its first request. V8 keeps the
// bytecode it compiled for that in the snapshot, so a command starts with commander's
// parsing, its action, the client and node's connect path compiled (measured: 3-5 ms of
// CPU less per command). Answers need no warming: a stand-in daemon answering them saved
// nothing more. Their error lines go to sinks: the build's own stdout and stderr must not
// be opened, a snapshot cannot hold them.

const HOT = [['ps'], ['network', 'ls'], ['inspect', 'c'], ['exec', 'c', 'true'], ['run', '-d', '--name', 'c', '--', 'true'], ['version']];

export async function warmUp(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-warm-up-'));
  const saved = (['stdout', 'stderr'] as const).map((name) => [name, Object.getOwnPropertyDescriptor(process, name)!] as const);
  for (const [name] of saved) Object.defineProperty(process, name, { configurable: true, enumerable: true, value: new Writable({ write: (_c, _e, done) => done() }) });
  try {
    for (const args of HOT) {
      await berthProgram().parseAsync(['node', 'berth', '-H', `unix://${join(dir, 'none.sock')}`, ...args]).catch(() => undefined);
    }
  } finally {
    for (const [name, descriptor] of saved) Object.defineProperty(process, name, descriptor);
    // inspect's failure set it
    process.exitCode = undefined;
    rmSync(dir, { recursive: true, force: true });
  }
}
