// The data path between two network namespaces (hosts, or containers by /proc/PID/ns/net),
// measured with the host's tools run inside them (nsenter --net: only the netns is
// entered, so a container needs no ping or iperf3 of its own): ping RTT and iperf3 TCP.
import { inNetnsArgv, run, runOk, sleep } from '../../test/lab/exec.js';
import { LabProcess } from '../../test/lab/process.js';
import { median, percentile } from './stats.js';

export interface Rtt {
  p50Us: number;
  p99Us: number;
  /** replies of the pings sent */
  n: number;
  sent: number;
}

/** `count` pings 2 ms apart from netns `from` to `to`: round-trip times in µs. */
export async function pingRtt(from: string, to: string, count: number): Promise<Rtt> {
  const out = await runOk(inNetnsArgv(from, ['ping', '-n', '-c', String(count), '-i', '0.002', '-W', '1', to]), { timeoutMs: 30_000 + count * 10 });
  const us = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  return { p50Us: median(us), p99Us: percentile(us, 99), n: us.length, sent: count };
}

/** iperf3 TCP for `seconds`: server in netns `server` bound to `addr`, client in netns `client`; Gbit/s received. */
export async function iperfGbps(server: string, client: string, addr: string, seconds: number): Promise<number> {
  const srv = new LabProcess(inNetnsArgv(server, ['iperf3', '-s', '-1', '-B', addr]));
  try {
    // iperf3 does not flush "Server listening" into a pipe: a refused connection means "not yet"
    for (let k = 0; ; k++) {
      await sleep(k === 0 ? 200 : 300);
      const r = await run(inNetnsArgv(client, ['iperf3', '-J', '-c', addr, '-t', String(seconds)]), { timeoutMs: (seconds + 15) * 1000 });
      if (r.code === 0) return JSON.parse(r.stdout).end.sum_received.bits_per_second / 1e9;
      if (k >= 10 || !srv.running) throw new Error(`iperf3 -c ${addr} exited ${r.code}: ${r.stdout.slice(-500)} ${r.stderr.trim()}\nserver: ${srv.output().slice(-500)}`);
    }
  } finally {
    await srv.stop('SIGKILL');
    await sleep(100);
  }
}

/** The MTU of a link in a netns. */
export async function mtuOf(ns: string, ifname: string): Promise<number> {
  const [link] = JSON.parse(await runOk(inNetnsArgv(ns, ['ip', '-j', 'link', 'show', 'dev', ifname]))) as { mtu: number }[];
  return link?.mtu ?? NaN;
}

/** The netns of a process, for nsenter --net. */
export function netnsOfPid(pid: number): string {
  return `/proc/${pid}/ns/net`;
}
