// What a benchmark's systems left behind once torn down: engine processes (dockerd,
// containerd, shims, berthd, etcd, the containers' own), a cluster's namespaces and mounts.
// Read from this lab world's /proc, /run/netns and mount table; empty = nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { DAEMON_PATH } from '../../test/lab/lab.js';
import { mountsUnder } from './host.js';

const ENGINE_COMMS = /^(dockerd|containerd|containerd-shim.*|runc|docker-proxy|etcd|iperf3)$/;

function processes(): string[] {
  const out: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const berthd = argv.includes(DAEMON_PATH);
      const sleeper = argv[0]?.endsWith('sleep') && argv[1] === '3600';
      if (ENGINE_COMMS.test(comm) || berthd || sleeper) out.push(`process ${d} ${argv.join(' ').trim().slice(0, 80)}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Leftovers of cluster `clusterName` (its netns names start with it) and any engine process. */
export async function leftovers(clusterName: string): Promise<string[]> {
  // a killed process's netns and mounts go a moment after it: look twice before calling it a leak
  let found: string[] = [];
  for (let k = 0; k < 20; k++) {
    found = [
      ...processes(),
      ...readdirSync('/run/netns').filter((n) => n.startsWith(clusterName)).map((n) => `netns ${n}`),
      ...mountsUnder('/run/berth-lab').filter((m) => m.includes(clusterName)).map((m) => `mount ${m}`),
    ];
    if (found.length === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return found;
}
