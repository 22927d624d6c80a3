import { advertiseIp } from '../cluster/advertise.js';
import { keys, lastSegment, type HostRecord } from '../cluster/keys.js';
import type { ClusterMembership } from '../cluster/membership.js';
import { PrefixSync } from '../cluster/sync.js';
import type { ClusterHostView } from '../driverapi/contract.js';
import type { DriverRegistry } from '../driverapi/registry.js';

// The cluster's hosts as the store lists them (each host's record lives on its lease: a
// host that stops renewing leaves), handed to every driver that wants to know them
// (hostsChanged: a plugin of global connectivity hears DiscoverNew/DiscoverDelete, as
// libnetwork's node discovery tells drivers). One change at a time, in the store's order.

export class ClusterHosts {
  private readonly sync: PrefixSync;
  private readonly hosts = new Map<string, HostRecord>();

  constructor(
    private readonly cluster: ClusterMembership,
    private readonly drivers: DriverRegistry,
    private readonly log: (msg: string) => void,
  ) {
    this.sync = new PrefixSync(cluster.store, keys.hosts, {
      reconcile: (all) => {
        this.hosts.clear();
        for (const kv of all) this.hosts.set(lastSegment(kv.key), JSON.parse(kv.value) as HostRecord);
        return this.tell();
      },
      put: (kv) => {
        this.hosts.set(lastSegment(kv.key), JSON.parse(kv.value) as HostRecord);
        return this.tell();
      },
      delete: (key) => {
        this.hosts.delete(lastSegment(key));
        return this.tell();
      },
    }, { log });
  }

  start(): void {
    this.sync.start();
  }

  stop(): Promise<void> {
    return this.sync.stop();
  }

  /** Every host now, this one included (known by its own settings until its record is listed). */
  list(): { self: ClusterHostView; hosts: ClusterHostView[] } {
    const view = (id: string, r: HostRecord): ClusterHostView => ({ id, address: advertiseIp(r.advertise), hostname: r.hostname });
    const hosts = [...this.hosts].map(([id, r]) => view(id, r));
    const self = hosts.find((h) => h.id === this.cluster.hostId) ?? { id: this.cluster.hostId, address: advertiseIp(this.cluster.settings.advertise), hostname: '' };
    if (!hosts.some((h) => h.id === self.id)) hosts.push(self);
    return { self, hosts };
  }

  private async tell(): Promise<void> {
    const { self, hosts } = this.list();
    for (const d of this.drivers.all()) {
      await d.hostsChanged?.(hosts, self).catch((err: Error) => this.log(`driver ${d.name}: the cluster's hosts not told: ${err.message}`));
    }
  }
}
