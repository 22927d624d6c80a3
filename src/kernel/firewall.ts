import type { Kernel } from './types.js';
import { assertIfName } from './validate.js';

// berth's firewall lives in its own nftables table and nowhere else. Rules are fixed at
// table creation; every per-network change is a set-element update inside one
// transaction, so its cost does not grow with the number of networks or containers.

export const TABLE = 'berth';

/** What the firewall needs to know about one bridge network (a plain value). */
export interface NetworkPolicy {
  bridge: string;
  subnet: string;
  internal: boolean;
  /** masquerade traffic leaving the host (com.docker.network.bridge.enable_ip_masquerade) */
  masquerade: boolean;
  /** inter-container communication on the bridge (only enforceable with br_netfilter) */
  icc: boolean;
}

/** The full table: used at start-up (atomic replace) and golden-tested without root. */
export function renderTable(policies: NetworkPolicy[]): string {
  return [
    `table ip ${TABLE} {`,
    '  set bridges { type ifname; comment "every berth bridge"; }',
    '  set internal_bridges { type ifname; comment "--internal networks: no way in or out"; }',
    '  set masquerade_subnets { type ipv4_addr; flags interval; comment "subnets whose egress leaves with the host address"; }',
    '  set icc { type ifname . ifname; comment "bridges whose containers may talk to each other"; }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    oifname @bridges ct state established,related accept comment "replies to containers"',
    '    iifname . oifname @icc accept comment "ICC: same network"',
    '    iifname @internal_bridges drop comment "INTERNAL: no egress"',
    '    oifname @internal_bridges drop comment "INTERNAL: no ingress"',
    '    iifname @bridges oifname @bridges drop comment "ISOLATION: networks cannot reach each other"',
    '    iifname @bridges accept comment "EGRESS"',
    '    oifname @bridges drop comment "NO DIRECT ACCESS: container addresses are not reachable from outside"',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    '    ip saddr @masquerade_subnets oifname != @bridges masquerade comment "MASQUERADE: egress with the host address"',
    '  }',
    '}',
    ...policies.map((p) => elementsOf('add', p)).filter((s) => s.length > 0),
  ].join('\n');
}

function elementsOf(verb: 'add' | 'delete', p: NetworkPolicy): string {
  assertIfName(p.bridge);
  const b = JSON.stringify(p.bridge);
  const lines = [`${verb} element ip ${TABLE} bridges { ${b} }`];
  if (p.internal) lines.push(`${verb} element ip ${TABLE} internal_bridges { ${b} }`);
  if (p.masquerade && !p.internal) lines.push(`${verb} element ip ${TABLE} masquerade_subnets { ${p.subnet} }`);
  if (p.icc) lines.push(`${verb} element ip ${TABLE} icc { ${b} . ${b} }`);
  return lines.join('\n');
}

/** The firewall handle the bridge driver uses. `enabled: false` is `--iptables=false`. */
export class Firewall {
  constructor(private readonly kernel: Kernel, readonly enabled: boolean) {}

  /** Replaces berth's table atomically with one holding exactly these networks. */
  async reset(policies: NetworkPolicy[]): Promise<void> {
    if (!this.enabled) return;
    await this.kernel.nft([`add table ip ${TABLE}`, `delete table ip ${TABLE}`, renderTable(policies)].join('\n'));
  }

  async addNetwork(p: NetworkPolicy): Promise<void> {
    if (this.enabled) await this.kernel.nft(elementsOf('add', p));
  }

  async removeNetwork(p: NetworkPolicy): Promise<void> {
    if (this.enabled) await this.kernel.nft(elementsOf('delete', p));
  }

  /** The ruleset as nft prints it, for a person to read. */
  async describe(): Promise<string> {
    if (!this.enabled) return '';
    return this.kernel.nft(`list table ip ${TABLE}`);
  }
}
