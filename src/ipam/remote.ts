import type { Plugins } from '../plugins/plugins.js';
import { PluginError, type PluginClient } from '../plugins/client.js';

// An IPAM driver that is a plugin (libnetwork's remote IPAM, protocols.md B.3): pools and
// addresses are the plugin's, asked for over Docker's plugin protocol v1, as dockerd 20.10
// asks (test/fixtures/dockerd-20.10/ipam-calls.json). Unlike the default allocator it is
// asynchronous and keeps its own state: berth records the pool ids it answers with
// (NetworkRecord.ipamPools) and gives everything back in dockerd's order.

/** RequestAddress's option naming a network's gateway. */
const GATEWAY = { RequestAddressType: 'com.docker.network.gateway' };

export interface RemotePool {
  /** the plugin's opaque PoolID */
  id: string;
  /** the pool it gave, CIDR */
  subnet: string;
}

interface Capabilities {
  requiresMac: boolean;
  requiresReplay: boolean;
  addressSpace: string;
}

export class RemoteIpam {
  /** per activation: a plugin that restarted (a new client) may answer otherwise */
  private readonly known = new WeakMap<PluginClient, Capabilities>();

  constructor(private readonly plugins: Plugins) {}

  private call<T extends object>(name: string, method: string, body: unknown): Promise<T | undefined> {
    return this.plugins.call<T>(name, 'IpamDriver', `IpamDriver.${method}`, body);
  }

  /** GetCapabilities (optional: none when the plugin has not the method) and GetDefaultAddressSpaces, once per plugin. */
  async capabilities(name: string): Promise<Capabilities> {
    const client = await this.plugins.get(name, 'IpamDriver');
    const cached = this.known.get(client);
    if (cached) return cached;
    const caps = await this.plugins.call<{ RequiresMACAddress?: boolean; RequiresRequestReplay?: boolean }>(name, 'IpamDriver', 'IpamDriver.GetCapabilities', undefined, { optional: true });
    const spaces = await this.call<{ LocalDefaultAddressSpace?: string }>(name, 'GetDefaultAddressSpaces', undefined);
    const c = { requiresMac: !!caps?.RequiresMACAddress, requiresReplay: !!caps?.RequiresRequestReplay, addressSpace: spaces?.LocalDefaultAddressSpace ?? '' };
    this.known.set(client, c);
    return c;
  }

  async requestPool(name: string, req: { pool?: string; subPool?: string; options: Record<string, string>; v6: boolean }): Promise<RemotePool> {
    const { addressSpace } = await this.capabilities(name);
    const a = await this.call<{ PoolID?: string; Pool?: string }>(name, 'RequestPool', { AddressSpace: addressSpace, Pool: req.pool ?? '', SubPool: req.subPool ?? '', Options: req.options, V6: req.v6 });
    if (!a?.PoolID || !a.Pool) throw new PluginError(`plugin ${name}: RequestPool: the answer has no PoolID or Pool`);
    return { id: a.PoolID, subnet: a.Pool };
  }

  releasePool(name: string, poolId: string): Promise<unknown> {
    return this.call(name, 'ReleasePool', { PoolID: poolId });
  }

  /** One address ('' asks the plugin to choose); returns it in CIDR form, as the plugin gave it. */
  async requestAddress(name: string, poolId: string, address: string, kind: { gateway?: boolean; mac?: string } = {}): Promise<string> {
    const { requiresMac } = await this.capabilities(name);
    // dockerd sends no options for a plain address (null), the MAC only to a plugin that wants it
    const options = kind.gateway ? GATEWAY : requiresMac && kind.mac ? { 'com.docker.network.endpoint.macaddress': kind.mac } : null;
    const a = await this.call<{ Address?: string }>(name, 'RequestAddress', { PoolID: poolId, Address: address, Options: options });
    if (!a?.Address || !a.Address.includes('/')) throw new PluginError(`plugin ${name}: RequestAddress: the answer ${JSON.stringify(a?.Address ?? '')} is not an address in CIDR form`);
    return a.Address;
  }

  releaseAddress(name: string, poolId: string, address: string): Promise<unknown> {
    return this.call(name, 'ReleaseAddress', { PoolID: poolId, Address: address });
  }
}
