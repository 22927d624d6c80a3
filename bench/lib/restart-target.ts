// What bench:restart asks of an engine under test (berthd, dockerd): the same workload made
// in a lab (N busybox httpd containers, each publishing a port and named on a user network,
// a prober container on every network), then killed with -9 and started again. Also the
// checks made outside the timed restarts, which are the same for every engine.
import type { Lab } from '../../test/lab/lab.js';

/** containers per user network (a bridge holds 1,023) */
export const PER_NETWORK = 500;
export const FIRST_PORT = 20000;
/** busybox httpd, its home a read-only directory of the container's own /sys: nothing is ever fetched, only connected to */
export const HTTPD = ['httpd', '-f', '-p', '80', '-h', '/sys/fs'];

export interface RestartTarget {
  /** the lab whose host netns the engine runs in (the port probe runs there, to hostUplinkAddr) */
  readonly lab: Lab;
  /** the containers' names and published ports, in the order made */
  readonly names: string[];
  readonly ports: number[];
  /** the prober's netns (a path nsenter takes); after a start that restarted the containers, the new one */
  proberNs(): Promise<string>;
  /** SIGKILL to the daemon alone */
  kill(): Promise<void>;
  /** the daemon again on the same state; resolves once /_ping answers */
  start(): Promise<void>;
  /** the start restarts the containers (dockerd without --live-restore): the prober's netns is only there again after it */
  readonly containersRestart: boolean;
  /** the published ports the daemon has not programmed (its DNAT rules or map) */
  unmapped(ports: number[]): Promise<number[]>;
  /** the daemon's own account of its last start, from its log */
  said(): string[];
  /** after a start that left containers down: how many, and why (the engine's own words), as ", …" */
  notRunning?(): Promise<string>;
  /** how the workload was laid out when it differs from the usual one, for a note */
  readonly note?: string;
  /** what it costs while running (processes, tasks, memory), for a note; undefined when not counted */
  footprint(): Promise<string | undefined>;
  destroy(): Promise<void>;
}

/** The ports of addr not forwarding yet, probed from the lab host's netns (where the host uplink is), 50 at a time, 1 s each. */
export async function portsDown(lab: Lab, ports: number[]): Promise<number[]> {
  const probe = `const net=require('net');const [addr,...ports]=process.argv.slice(1);const down=[];
(async()=>{for(let i=0;i<ports.length;i+=50){const c=ports.slice(i,i+50);const ok=await Promise.all(c.map(p=>new Promise(r=>{const s=net.connect({host:addr,port:+p,timeout:1000});const d=v=>{s.destroy();r(v)};s.once('connect',()=>d(true)).once('error',()=>d(false)).once('timeout',()=>d(false))})));c.forEach((p,k)=>ok[k]||down.push(p))}console.log(down.join(' '))})()`;
  const r = await lab.inHost(['node', '-e', probe, lab.hostUplinkAddr, ...ports.map(String)], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`port probe failed: ${r.stderr.trim()}`);
  return r.stdout.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** The names the resolver does not answer yet, asked by dig from the prober's netns (one batch). */
export async function namesDown(lab: Lab, ns: string, names: string[]): Promise<string[]> {
  const r = await lab.inNetns(ns, ['dig', '@127.0.0.11', '+tries=1', '+time=1', '+noall', '+answer', ...names.flatMap((n) => [n, 'A'])], { timeoutMs: 120_000 });
  const answered = new Set(r.stdout.split('\n').map((l) => l.split(/\s+/)[0]?.replace(/\.$/, '')).filter(Boolean));
  return names.filter((n) => !answered.has(n));
}
