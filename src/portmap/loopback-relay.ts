import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';

// The one case the kernel cannot forward: a host process reaching a published port through
// IPv6 loopback ([::1]). IPv4 has net.ipv4.conf.*.route_localnet, which lets berth DNAT
// 127.0.0.1 into a container; IPv6 has no such switch, and a reply de-NATed back to ::1
// arrives on the bridge, where the kernel's strict lookup for loopback addresses drops it
// (the silent time-out of netavark#790 and cri-tools#165). So the ip6 table leaves ::1
// alone, and the reservation socket berthd already holds on [::] or [::1] relays those
// connections itself. Only host-local IPv6 loopback traffic takes this path; every other
// packet is still forwarded by the kernel.

/** Where a relayed port goes: the container's IPv6 address and port. */
export interface RelayTarget {
  ip: string;
  port: number;
}

/** Pipes one accepted TCP connection to the target, both ways; either side's end or error ends both. */
export function relayTcp(client: Socket, target: RelayTarget): void {
  const upstream = connect({ host: target.ip, port: target.port });
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.pipe(upstream);
  upstream.pipe(client);
  client.resume();
}

/** A UDP client's flow is forgotten after this long without a datagram either way. */
const UDP_IDLE_MS = 30_000;

/**
 * Relays datagrams arriving on `socket` to the target, one upstream socket per client
 * address and port (so the container's answers find their client), as conntrack would.
 */
export function relayUdp(socket: UdpSocket, target: RelayTarget): { close(): void } {
  const flows = new Map<string, { upstream: UdpSocket; timer: NodeJS.Timeout }>();
  const forget = (key: string) => {
    const flow = flows.get(key);
    if (!flow) return;
    flows.delete(key);
    clearTimeout(flow.timer);
    flow.upstream.close();
  };
  socket.on('message', (msg, from) => {
    const key = `${from.address}|${from.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const upstream = createSocket('udp6');
      upstream.on('error', () => forget(key));
      upstream.on('message', (reply) => {
        socket.send(reply, from.port, from.address);
        const f = flows.get(key);
        if (f) f.timer.refresh();
      });
      upstream.unref();
      flow = { upstream, timer: setTimeout(() => forget(key), UDP_IDLE_MS).unref() };
      flows.set(key, flow);
    }
    flow.timer.refresh();
    flow.upstream.send(msg, target.port, target.ip);
  });
  return { close: () => [...flows.keys()].forEach(forget) };
}
