// berthd as bench:restart's engine (restart-target.ts): a lab whose berthd makes the
// workload through its API; the data path needs no berthd (the nftables tables and the
// veths stay), the names do (the resolver is berthd's).
import { Lab } from '../../test/lab/lab.js';
import { apiOk, log } from './lab-api.js';
import { FIRST_PORT, HTTPD, PER_NETWORK, type RestartTarget } from './restart-target.js';
import { nowMs } from './timing.js';

/** This sandbox sets NODE_EXTRA_CA_CERTS, which costs every node start tens of ms reading certificates berthd never uses (the CLI benches spare it too). */
export const NODE_ENV: Record<string, string> = { NODE_EXTRA_CA_CERTS: '' };

/**
 * Containers on user networks, at most: berthd holds two resolver sockets (UDP, TCP) in each
 * (its embedded DNS answers inside the container's netns), and this machine's hard limit of
 * open files is 20,000, which root here cannot raise. Past it, the rest go on the default
 * bridge (≤ 1,023), which has no names, as under dockerd: their ports are probed, not names.
 */
const NAMED_AT_MOST = Number(process.env.BENCH_RESTART_NAMED ?? 9000);
/** Containers publishing a port, at most: each published port is a reservation socket too (portmap/allocator.ts). */
const PUBLISHED_AT_MOST = Number(process.env.BENCH_RESTART_PUBLISHED ?? Infinity);

export async function makeBerth(n: number): Promise<RestartTarget> {
  const lab = await Lab.create();
  try {
    const named = Math.min(n, NAMED_AT_MOST);
    const published = Math.min(n, PUBLISHED_AT_MOST);
    const networks = Math.ceil(named / PER_NETWORK);
    for (let k = 0; k < networks; k++) await apiOk(lab, 'POST', '/networks/create', { Name: `rnet${k}` });
    const names: string[] = [];
    const ports: number[] = [];
    const t0 = nowMs();
    for (let i = 0; i < n; i++) {
      const port = FIRST_PORT + i;
      const c = await apiOk(lab, 'POST', `/containers/create?name=web${i}`, {
        Cmd: ['busybox', ...HTTPD],
        ...(i < published ? { ExposedPorts: { '80/tcp': {} } } : {}),
        HostConfig: { NetworkMode: i < named ? `rnet${i % networks}` : 'bridge', ...(i < published ? { PortBindings: { '80/tcp': [{ HostPort: String(port) }] } } : {}) },
      });
      await apiOk(lab, 'POST', `/containers/${(c.body as { Id: string }).Id}/start`);
      if (i < named) names.push(`web${i}`);
      if (i < published) ports.push(port);
      if ((i + 1) % 250 === 0) log(`berth ${n}: ${i + 1} running`);
    }
    log(`berth ${n}: made in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
    const prober = await apiOk(lab, 'POST', '/containers/create?name=prober', { Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'rnet0' } });
    await apiOk(lab, 'POST', `/containers/${(prober.body as { Id: string }).Id}/start`);
    for (let k = 1; k < networks; k++) await apiOk(lab, 'POST', `/networks/rnet${k}/connect`, { Container: 'prober' });
    const ns = ((await apiOk(lab, 'GET', '/containers/prober/json')).body as { NetworkSettings: { SandboxKey: string } }).NetworkSettings.SandboxKey;
    return {
      lab,
      names,
      ports,
      containersRestart: false,
      note: named < n || published < n
        ? `${named.toLocaleString('en-US')} containers named on ${networks} user networks, ${(n - named).toLocaleString('en-US')} on the default bridge (no names there), ${published.toLocaleString('en-US')} publishing a port: berthd holds 2 resolver sockets per named container and a reservation socket per published port, and this machine's hard open-files limit is 20,000 (root cannot raise it here)`
        : undefined,
      proberNs: async () => ns,
      kill: () => lab.killDaemon(),
      start: () => lab.startDaemon(undefined, NODE_ENV),
      unmapped: (ps) => unmapped(lab, ps),
      said: () => lab.daemonLog().split('\n').filter((l) => / adopted in | ready in | sweep done in /.test(l)).slice(-3).map((l) => l.replace(/^\S+ berthd: /, '')),
      footprint: async () => undefined,
      destroy: () => lab.destroy(),
    };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

/** The published ports missing from berth's DNAT map (ip berth published_any), listed in the lab host. */
async function unmapped(lab: Lab, ports: number[]): Promise<number[]> {
  const r = await lab.inHost(['nft', '-j', 'list', 'map', 'ip', 'berth', 'published_any']);
  if (r.code !== 0) return ports;
  const have = new Set(r.stdout.match(/"tcp", \d+/g)?.map((m) => Number(m.split(', ')[1])) ?? []);
  return ports.filter((p) => !have.has(p));
}
