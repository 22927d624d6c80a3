import type { Kernel } from '../kernel/types.js';
import type { NetworkRecord } from '../store/records.js';
import type { EngineObserver } from './observer.js';

// --ip-forward for IPv6 (Docker 27's behaviour): the first IPv6 network created or
// restored turns net.ipv6.conf.all.forwarding (and default) on; an IPv4-only host is left
// as it was. A forwarding interface ignores router advertisements unless its accept_ra
// is 2, so a host whose own uplink learns its routes by SLAAC would lose them: every
// interface at accept_ra=1 (and the default for new ones) is moved to 2 first, as LXD
// and Incus do. A host whose IPv6 forwarding is already on is the admin's choice: untouched.

const RA_LOG_NAMES = 12;

export class Ipv6Forwarding implements EngineObserver {
  /** settled once per daemon run (a concurrent second create waits for the first) */
  private done?: Promise<void>;

  constructor(private readonly kernel: Kernel, private readonly log: (msg: string) => void) {}

  networkUp(net: NetworkRecord): Promise<void> | void {
    if (!net.enableIPv6) return;
    this.done ??= this.enable().catch((err: Error) => {
      this.done = undefined;
      throw err;
    });
    return this.done;
  }

  private async enable(): Promise<void> {
    if ((await this.kernel.readSysctl('net.ipv6.conf.all.forwarding')) === '1') return;
    const moved = await this.keepRouterAdvertisements();
    if (moved.length) {
      const shown = moved.length > RA_LOG_NAMES ? `${moved.slice(0, RA_LOG_NAMES).join(', ')} and ${moved.length - RA_LOG_NAMES} more` : moved.join(', ');
      this.log(`IPv6 forwarding: accept_ra 1 -> 2 on ${shown}, so they keep the routes router advertisements give them`);
    }
    await this.kernel.writeSysctl('net.ipv6.conf.all.forwarding', '1');
    await this.kernel.writeSysctl('net.ipv6.conf.default.forwarding', '1');
    this.log('IPv6 forwarding on (net.ipv6.conf.all.forwarding=1): an IPv6 network exists');
  }

  /** Moves accept_ra 1 to 2 on every interface and on `default`; returns their names. */
  private async keepRouterAdvertisements(): Promise<string[]> {
    const names = ['default', ...(await this.kernel.listLinks()).map((l) => l.name).filter((n) => /^[a-zA-Z0-9_.-]+$/.test(n))];
    const moved: string[] = [];
    for (const name of names) {
      const key = `net/ipv6/conf/${name}/accept_ra`;
      // a link deleted meanwhile has no sysctl left: nothing to keep
      const value = await this.kernel.readSysctl(key).catch(() => undefined);
      if (value !== '1') continue;
      await this.kernel.writeSysctl(key, '2');
      moved.push(name);
    }
    return moved;
  }
}
