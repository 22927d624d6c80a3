// Facts about the machine and processes, for the report: load, memory of a process, mounts.
import { readdirSync, readFileSync } from 'node:fs';

export function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').trim();
}

/** VmRSS of a process in MB; undefined when it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Pids whose command line contains every one of the given arguments. */
export function pidsWithArgs(...args: string[]): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (args.every((a) => argv.includes(a))) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Mount points of our mount namespace under a directory. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)));
}

export function cpuModel(): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return m?.[1] ?? 'unknown cpu';
}
