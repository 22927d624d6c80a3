// The lab's wiring: a "host" netns (where berthd runs) with an uplink to an "internet" netns.
//
//   host ns                         internet ns
//   uplink0 198.51.100.2/24 ─veth─ wan0 198.51.100.1/24
//   default via 198.51.100.1        lo 203.0.113.10/32 (echo server)
//
// The internet ns has no route to any container subnet, so a container's packet gets an
// answer only when the host masqueraded it to 198.51.100.2.
import { runOk } from './exec.js';

export const HOST_UPLINK_ADDR = '198.51.100.2';
export const INTERNET_GATEWAY_ADDR = '198.51.100.1';
export const INTERNET_ADDR = '203.0.113.10';
export const UPLINK_IF = 'uplink0';
export const INTERNET_IF = 'wan0';

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

async function batchIn(nsName: string, lines: string[]): Promise<void> {
  await runOk(['ip', '-n', nsName, '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** Creates both namespaces and the uplink between them. */
export async function wireLab(hostName: string, internetName: string): Promise<void> {
  await runOk(['ip', 'netns', 'add', hostName]);
  await runOk(['ip', 'netns', 'add', internetName]);
  await batchIn(hostName, [
    'link set lo up',
    `link add ${UPLINK_IF} type veth peer name ${INTERNET_IF} netns ${internetName}`,
    `addr add ${HOST_UPLINK_ADDR}/24 dev ${UPLINK_IF}`,
    `link set ${UPLINK_IF} up`,
    `route add default via ${INTERNET_GATEWAY_ADDR}`,
  ]);
  await batchIn(internetName, [
    'link set lo up',
    `addr add ${INTERNET_ADDR}/32 dev lo`,
    `addr add ${INTERNET_GATEWAY_ADDR}/24 dev ${INTERNET_IF}`,
    `link set ${INTERNET_IF} up`,
  ]);
}

// The optional "lan": a bridge lan0 in the lab host, with lan hosts (own netns each) on it.
//   host ns lan0 198.18.0.1/24  ── lan hosts 198.18.0.2, .3, … (default route via .1)
export const LAN_BRIDGE = 'lan0';
export const LAN_HOST_ADDR = '198.18.0.1';
const LAN_PREFIX = '198.18.0';

export async function wireLanBridge(hostName: string): Promise<void> {
  await batchIn(hostName, [
    `link add ${LAN_BRIDGE} type bridge`,
    `addr add ${LAN_HOST_ADDR}/24 dev ${LAN_BRIDGE}`,
    `link set ${LAN_BRIDGE} up`,
  ]);
}

/** Adds lan host number n (2..254) in netns nsName; returns its address. */
export async function wireLanHost(hostName: string, nsName: string, n: number): Promise<string> {
  const addr = `${LAN_PREFIX}.${n}`;
  const hostSide = `lanh${n}`;
  await runOk(['ip', 'netns', 'add', nsName]);
  await batchIn(hostName, [
    `link add ${hostSide} type veth peer name eth0 netns ${nsName}`,
    `link set ${hostSide} master ${LAN_BRIDGE}`,
    `link set ${hostSide} up`,
  ]);
  await batchIn(nsName, [
    'link set lo up',
    `addr add ${addr}/24 dev eth0`,
    'link set eth0 up',
    `route add default via ${LAN_HOST_ADDR}`,
  ]);
  return addr;
}
