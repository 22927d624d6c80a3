import type { Party } from './explain.js';
import type { Block } from './walk.js';

// What would change a "blocked" into a "reachable": the berth (or nft, or sysctl) command
// for the obstacle that stopped the packet. berth's own rules are known by their comments
// (drivers/bridge/firewall.ts); any other table's rule is the host's to change.

interface Asked {
  src: Party;
  dst: Party;
  port: number;
  proto: 'tcp' | 'udp';
  daddr: string;
}

export function adviceFor(block: Block, asked: Asked): string | undefined {
  const { src, dst, port, proto } = asked;
  const dstName = dst.ifaces[0]?.container.name;
  const srcName = src.ifaces[0]?.container.name;
  const dstNet = dst.ifaces[0]?.network.name;
  const portSpec = `${port}:${port}${proto === 'udp' ? '/udp' : ''}`;
  const publish = dstName ? `publish the port: recreate ${dstName} with -p ${portSpec} (berth run -p ${portSpec} …), then reach it at host:${port}` : undefined;
  switch (block.kind) {
    case 'rule': case 'policy': {
      const r = block.rule;
      const chain = block.chain!;
      if (chain.table !== 'berth') {
        const where = `${chain.family} ${chain.table} ${chain.chain}`;
        return `a rule outside berth drops it (table ${chain.family} ${chain.table}): see nft -a list chain ${where}${r ? `; allow the flow there, or remove the rule: nft delete rule ${where} handle ${r.handle}` : '; its policy is drop: add an accept rule for this flow'}`;
      }
      const c = r?.comment ?? '';
      if (/^(DIRECT ACCESS|NO DIRECT ACCESS|ISOLATION)/.test(c)) {
        if (srcName && dstNet) return `connect ${srcName} to ${dstName}'s network: berth network connect ${dstNet} ${srcName}${publish ? `; or ${publish}` : ''}`;
        return publish;
      }
      if (c.startsWith('NO ICC')) {
        return `the network ${dstNet ?? ''} has inter-container communication off: link them (recreate ${srcName ?? 'the client'} with --link ${dstName ?? 'the server'} and --expose ${port} on ${dstName ?? 'the server'}), or connect both to another network: berth network create shared && berth network connect shared ${srcName ?? 'SRC'} && berth network connect shared ${dstName ?? 'DST'}`;
      }
      if (c.startsWith('INTERNAL')) return internalAdvice(asked);
      if (c.startsWith('LOOPBACK')) return `127.0.0.1 is the host's own: only the host reaches a 127.0.0.1 binding; publish on 0.0.0.0 instead (-p ${portSpec})`;
      return undefined;
    }
    case 'listener':
      if (!block.iface && !dst.ifaces.length) {
        return `nothing publishes host port ${port}/${proto}: publish a container's port there (berth run -p ${port}:PORT${proto === 'udp' ? '/udp' : ''} …), or start a host service on it`;
      }
      return `start a server in ${block.iface?.container.name ?? dstName} listening on 0.0.0.0:${port}/${proto} (or on its address ${asked.daddr})`;
    case 'route':
      return block.iface?.network.internal ? internalAdvice(asked) : undefined;
    case 'stopped':
      return `start it: berth start ${block.iface?.container.name ?? dstName}`;
    case 'forwarding':
      return `enable forwarding: ${block.reason.includes('IPv4') ? 'sysctl -w net.ipv4.ip_forward=1' : 'sysctl -w net.ipv6.conf.all.forwarding=1'} (berthd sets it at start-up unless --ip-forward=false)`;
    case 'address':
      return dstNet ? `start the container that has this address, or use a name: berth explain ${srcName ?? 'SRC'} ${dstName}` : undefined;
    case 'macvlan-parent':
      return 'give the host a macvlan interface of its own on the parent (ip link add mv-host link PARENT type macvlan mode bridge, with an address) or reach the host through another network';
    default:
      return undefined;
  }
}

function internalAdvice({ src, dst }: Asked): string {
  const inner = [...src.ifaces, ...dst.ifaces].find((i) => i.network.internal);
  return inner
    ? `${inner.network.name} is --internal (no way in or out): connect ${inner.container.name} to a network that is not (berth network connect bridge ${inner.container.name}), or recreate ${inner.network.name} without --internal`
    : 'the network is --internal: recreate it without --internal';
}
