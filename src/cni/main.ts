import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './plugin.js';

// berth-cni's entry: a runtime execs it with CNI_* in the environment and the config on
// stdin (CNI_COMMAND=VERSION needs none). `berth-cni --install [DIR]` links it into a CNI
// plugin folder (default /opt/cni/bin) as `berth`, the name a conflist's "type" gives.

const DEFAULT_PLUGIN_DIR = '/opt/cni/bin';

async function main(): Promise<void> {
  if (process.argv[2] === '--install') return install(process.argv[3] ?? DEFAULT_PLUGIN_DIR);
  if (process.argv[2] === '--help' || (!process.env.CNI_COMMAND && process.stdin.isTTY)) {
    process.stdout.write('berth-cni: the CNI plugin of berth (CNI 0.3.0 to 1.1.0); runtimes run it as the plugin "berth"\n' +
      'usage: berth-cni --install [DIR]   link it into DIR (default /opt/cni/bin) as berth\n');
    return;
  }
  const stdin = process.env.CNI_COMMAND === 'VERSION' && process.stdin.isTTY ? '' : await readStdin();
  const out = await run({ env: process.env, stdin });
  if (out.stdout) process.stdout.write(out.stdout + '\n');
  process.exit(out.exit);
}

function install(dir: string): void {
  const self = resolve(fileURLToPath(import.meta.url), '../../../../bin/berth-cni');
  const target = join(dir, 'berth');
  mkdirSync(dir, { recursive: true });
  if (existsSync(target)) rmSync(target);
  symlinkSync(self, target);
  process.stdout.write(`${target} -> ${self}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

await main();
